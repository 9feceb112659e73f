/**
 * The running sink (Telegraf's running_output): batching, retry, bounds and "acknowledge only
 * after the store committed" live here once, not in each store.
 *
 * - Messages join the pending queue with their ack; a batch is cut by size or by age.
 * - A few commits run at once (the database works while the next batch is decoded), but
 *   acks and commit listeners follow arrival order (MQTT 3.1.1 §4.6 asks PUBACKs in receipt
 *   order).
 * - A failing commit is retried with exponential backoff and nothing is acked meanwhile;
 *   the in-flight bound then stops intake, and the broker keeps the rest.
 * - A batch the store refuses for its content (not for its connection) is split until the
 *   culprit message is alone; that one becomes a `store_rejected` dead letter and is acked,
 *   so a poison message cannot block every device behind it. Its dead letter holds only
 *   storable text, with a last-resort form (no payload, fixed words) should even that be
 *   refused, so isolating it never throws and never takes the innocent messages down with it.
 * - A commit that keeps failing is visible: `failingSince` (read by /ready) and the
 *   commit-failure counter, which counts refused contents as well as lost connections.
 */
import { createHash } from 'node:crypto';
import pRetry, { AbortError } from 'p-retry';
import type { Logger } from 'pino';
import type { Observation } from '../schemas/index.ts';
import type { DeviceInfo, DeviceStatusChange } from './decoder.ts';
import type { IngestInstruments } from './instruments.ts';
import type { InboundMessage } from './decoder.ts';
import { printable, type DeadLetter, type ProcessedMessage } from './process-message.ts';

export interface Batch {
  observations: Observation[];
  deadLetters: DeadLetter[];
  /** Device id to the latest receive time seen in the batch. */
  devicesSeen: Map<string, Date>;
  /** Online/offline changes (Sparkplug B BIRTH/DEATH), in arrival order. */
  deviceStatus?: DeviceStatusChange[];
  /** Names and tags the wire formats give unregistered devices (ChirpStack). */
  deviceInfo?: DeviceInfo[];
}

export interface PrimarySink {
  write(batch: Batch): Promise<void>;
  /** True when the error is about the data, so retrying the same rows cannot succeed. */
  isContentError(err: unknown): boolean;
}

export interface RunningSinkOptions {
  sink: PrimarySink;
  maxBatchItems: number;
  maxBatchDelayMs: number;
  maxInflightMessages: number;
  /** Commits allowed in flight at once (acks still leave in arrival order). */
  maxConcurrentCommits: number;
  retryMinMs: number;
  retryMaxMs: number;
  deadLetterMaxBytes: number;
  logger: Logger;
  instruments: IngestInstruments;
  /** Called after each commit, before the acks: the hook for alerting, live streams, mirrors. */
  onCommitted?: (batch: Batch) => void;
}

interface Pending {
  processed: ProcessedMessage;
  message: InboundMessage;
  ack: () => void;
  items: number;
}

interface Commit {
  messages: Pending[];
  /** Batches actually written (more than one when a poison message was isolated). */
  written: Batch[];
  startedAt: bigint;
  settled: boolean;
  failed: boolean;
}

export class RunningSink {
  /** Messages not yet in a commit: `pending[pendingHead..]` (taken from the front in O(1)). */
  private pending: Pending[] = [];
  private pendingHead = 0;
  /** Commits under way, in the order their messages arrived. */
  private readonly commits: Commit[] = [];
  private pendingItemCount = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly capacityWaiters: Array<() => void> = [];
  private readonly idleWaiters: Array<() => void> = [];
  private readonly abort = new AbortController();
  private closed = false;
  private failedAt: Date | null = null;

  constructor(private readonly options: RunningSinkOptions) {}

  /** Messages accepted but not yet acknowledged. */
  get inflight(): number {
    let n = this.pendingCount;
    for (const c of this.commits) n += c.messages.length;
    return n;
  }

  /** When the current run of failed write attempts began; null while writes succeed. */
  get failingSince(): Date | null {
    return this.failedAt;
  }

  private get pendingCount(): number {
    return this.pending.length - this.pendingHead;
  }

  /** Takes the oldest pending message; the array is compacted once half of it is taken. */
  private takePending(): Pending {
    const next = this.pending[this.pendingHead++]!;
    if (this.pendingHead > 1024 && this.pendingHead * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.pendingHead);
      this.pendingHead = 0;
    }
    return next;
  }

  hasCapacity(): boolean {
    return this.inflight < this.options.maxInflightMessages;
  }

  /** Resolves once the in-flight count is under the bound (intake waits on this). */
  waitForCapacity(): Promise<void> {
    if (this.hasCapacity()) return Promise.resolve();
    return new Promise((resolve) => this.capacityWaiters.push(resolve));
  }

  push(processed: ProcessedMessage, message: InboundMessage, ack: () => void): void {
    if (this.closed) throw new Error('running sink is closed');
    const items = processed.observations.length + processed.deadLetters.length;
    this.pending.push({ processed, message, ack, items });
    this.pendingItemCount += items;
    this.options.instruments.inflightMessages.set(this.inflight);
    this.startCommits(false);
    if (this.pendingCount > 0 && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.startCommits(true);
      }, this.options.maxBatchDelayMs);
    }
  }

  /** Commits everything pending now; resolves when it is committed and acknowledged. */
  async flush(): Promise<void> {
    while (this.pendingCount > 0 || this.commits.length > 0) {
      if (this.abort.signal.aborted) return;
      this.startCommits(true);
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
  }

  /** Graceful: commit what is pending, then refuse more. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    this.clearTimer();
  }

  /** Immediate: stop retrying; unacknowledged messages stay with the broker for redelivery. */
  destroy(): void {
    this.closed = true;
    this.abort.abort();
    this.clearTimer();
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * Cuts batches from the pending queue and starts their commits, up to the concurrency
   * bound. Full batches go at once; a partial one only when `force` (its timer fired, or a
   * flush), so small traffic still batches by time.
   */
  private startCommits(force: boolean): void {
    const { maxBatchItems, maxConcurrentCommits } = this.options;
    while (
      this.pendingCount > 0 &&
      this.commits.length < maxConcurrentCommits &&
      !this.abort.signal.aborted &&
      (force || this.pendingItemCount >= maxBatchItems)
    ) {
      const messages: Pending[] = [];
      let items = 0;
      while (this.pendingCount > 0 && (messages.length === 0 || items + this.pending[this.pendingHead]!.items <= maxBatchItems)) {
        const next = this.takePending();
        messages.push(next);
        items += next.items;
      }
      this.pendingItemCount -= items;
      const commit: Commit = { messages, written: [], startedAt: process.hrtime.bigint(), settled: false, failed: false };
      this.commits.push(commit);
      this.commit(messages, commit.written).then(
        () => this.settle(commit, false),
        (err: unknown) => {
          if (!this.abort.signal.aborted) this.options.logger.error({ err }, 'commit abandoned');
          this.settle(commit, true);
        },
      );
    }
    if (this.pendingCount === 0) this.clearTimer();
  }

  /**
   * Acknowledges in arrival order: a commit that finishes early waits for the ones before it,
   * so PUBACKs leave in receipt order (MQTT 3.1.1 §4.6) and listeners see batches in order.
   */
  private settle(commit: Commit, failed: boolean): void {
    commit.settled = true;
    commit.failed = failed;
    while (this.commits.length > 0 && this.commits[0]!.settled) {
      const head = this.commits.shift()!;
      // A failed commit only happens on destroy(): its messages stay unacknowledged.
      if (head.failed) continue;
      for (const batch of head.written) this.recordCommit(batch, head.startedAt);
      for (const p of head.messages) p.ack();
    }
    this.options.instruments.inflightMessages.set(this.inflight);
    while (this.capacityWaiters.length > 0 && this.hasCapacity()) this.capacityWaiters.shift()!();
    if (this.pendingCount > 0) this.startCommits(this.timer === null);
    if (this.commits.length === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private async commit(messages: Pending[], written: Batch[]): Promise<void> {
    const batch = toBatch(messages);
    try {
      await this.writeWithRetry(batch);
    } catch (err) {
      if (!this.options.sink.isContentError(err)) throw err;
      await this.isolatePoison(messages, err, written);
      return;
    }
    written.push(batch);
  }

  private recordCommit(batch: Batch, started: bigint): void {
    const { instruments } = this.options;
    instruments.commitSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    instruments.batchSize.observe(batch.observations.length + batch.deadLetters.length);
    instruments.observationsStored.inc(batch.observations.length);
    instruments.deadLetters.inc(batch.deadLetters.length);
    try {
      this.options.onCommitted?.(batch);
    } catch (err) {
      this.options.logger.error({ err }, 'onCommitted listener failed');
    }
  }

  /** Binary split of a batch the store refused for its content. */
  private async isolatePoison(messages: Pending[], cause: unknown, written: Batch[]): Promise<void> {
    if (messages.length === 1) {
      const { message, processed } = messages[0]!;
      this.options.logger.warn({ err: cause, deviceId: processed.deviceId, topic: printable(message.topic, 500) }, 'store refused a message; dead-lettering it');
      const sha = createHash('sha256').update(message.payload).digest();
      const code = (cause as { code?: unknown })?.code;
      const letter: DeadLetter = {
        receivedAt: message.receivedAt,
        topic: printable(message.topic, 65_535),
        decoder: processed.deadLetters[0]?.decoder ?? null,
        deviceId: processed.deviceId === null ? null : printable(processed.deviceId, 200),
        code: 'store_rejected',
        reason: printable(`the store refused this message${typeof code === 'string' ? ` (SQLSTATE ${code})` : ''}: ${(cause as Error)?.message}`, 1000),
        field: null,
        payload: message.payload.subarray(0, this.options.deadLetterMaxBytes),
        payloadSize: message.payload.length,
        payloadSha256: sha,
      };
      let batch: Batch = { observations: [], deadLetters: [letter], devicesSeen: new Map() };
      try {
        await this.writeWithRetry(batch);
      } catch (err) {
        if (!this.options.sink.isContentError(err)) throw err;
        this.options.logger.error({ err }, 'the dead letter of a refused message was refused too; storing its last-resort form');
        // Fixed words refused would not be the message's fault: retried like a lost connection,
        // visibly (failingSince, commit failures), rather than dropped.
        batch = { observations: [], deadLetters: [lastResort(letter)], devicesSeen: new Map() };
        await this.writeWithRetry(batch, true);
      }
      written.push(batch);
      return;
    }
    const half = Math.ceil(messages.length / 2);
    for (const part of [messages.slice(0, half), messages.slice(half)]) await this.commit(part, written);
  }

  /** `retryContent`: refused contents are retried too (the last-resort dead letter). */
  private writeWithRetry(batch: Batch, retryContent = false): Promise<void> {
    const { sink, logger, instruments, retryMinMs, retryMaxMs } = this.options;
    return pRetry(
      async () => {
        try {
          await sink.write(batch);
          this.failedAt = null;
        } catch (err) {
          if (sink.isContentError(err) && !retryContent) {
            // Refused contents are commit failures too, though retrying cannot help.
            instruments.commitFailures.inc();
            throw new AbortError(err as Error);
          }
          this.failedAt ??= new Date();
          throw err;
        }
      },
      {
        retries: Number.POSITIVE_INFINITY,
        minTimeout: retryMinMs,
        maxTimeout: retryMaxMs,
        randomize: true,
        signal: this.abort.signal,
        onFailedAttempt: ({ error, attemptNumber }) => {
          instruments.commitFailures.inc();
          logger.warn({ err: error, attempt: attemptNumber }, 'commit failed; retrying, nothing acknowledged meanwhile');
        },
      },
    );
  }
}

/** A dead letter no store can refuse: fixed words, the identity hash, no payload bytes. */
function lastResort(letter: DeadLetter): DeadLetter {
  const hex = letter.payloadSha256.toString('hex');
  return {
    ...letter,
    topic: `(unstorable topic, payload sha256 ${hex})`,
    deviceId: null,
    decoder: null,
    field: null,
    reason: 'the store refused this message and its dead letter; only its size and hash are kept',
    payload: Buffer.alloc(0),
  };
}

function toBatch(messages: Pending[]): Batch {
  const batch: Batch = { observations: [], deadLetters: [], devicesSeen: new Map() };
  for (const { processed, message } of messages) {
    const { receivedAt } = message;
    const seen = (id: string) => {
      const prev = batch.devicesSeen.get(id);
      if (!prev || prev < receivedAt) batch.devicesSeen.set(id, receivedAt);
    };
    // One message may speak for several devices (an NGSI notification, a Sparkplug node and
    // its devices): every device with an observation is heard from.
    for (const o of processed.observations) {
      batch.observations.push(o);
      if (o.deviceId !== processed.deviceId) seen(o.deviceId);
    }
    for (const d of processed.deadLetters) batch.deadLetters.push(d);
    if (processed.deviceStatus) (batch.deviceStatus ??= []).push(...processed.deviceStatus);
    if (processed.deviceInfo) (batch.deviceInfo ??= []).push(...processed.deviceInfo);
    if (processed.deviceId) seen(processed.deviceId);
  }
  return batch;
}
