/**
 * The running sink (Telegraf's running_output): batching, retry, bounds and "acknowledge only
 * after the store committed" live here once, not in each store.
 *
 * - Messages join the pending queue with their ack; a batch is cut by size or by age.
 * - One commit at a time, in arrival order, so acks leave in the order messages came
 *   (MQTT 3.1.1 §4.6 asks PUBACKs in receipt order).
 * - A failing commit is retried with exponential backoff and nothing is acked meanwhile;
 *   the in-flight bound then stops intake, and the broker keeps the rest.
 * - A batch the store refuses for its content (not for its connection) is split until the
 *   culprit message is alone; that one becomes a `store_rejected` dead letter and is acked,
 *   so a poison message cannot block every device behind it.
 */
import pRetry, { AbortError } from 'p-retry';
import type { Logger } from 'pino';
import type { Observation } from '../schemas/index.ts';
import type { DeviceInfo, DeviceStatusChange } from './decoder.ts';
import type { IngestInstruments } from './instruments.ts';
import type { InboundMessage } from './decoder.ts';
import type { DeadLetter, ProcessedMessage } from './process-message.ts';

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

export class RunningSink {
  private readonly pending: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private readonly capacityWaiters: Array<() => void> = [];
  private readonly abort = new AbortController();
  private closed = false;

  constructor(private readonly options: RunningSinkOptions) {}

  /** Messages accepted but not yet acknowledged. */
  get inflight(): number {
    return this.pending.length + this.committingCount;
  }
  private committingCount = 0;

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
    this.options.instruments.inflightMessages.set(this.inflight);
    if (this.pendingItems() >= this.options.maxBatchItems) this.kick();
    else if (!this.timer) this.timer = setTimeout(() => this.kick(), this.options.maxBatchDelayMs);
  }

  /** Commits everything pending now; resolves when it is committed and acked. */
  async flush(): Promise<void> {
    while (this.pending.length > 0 || this.flushing) {
      this.kick();
      await this.flushing;
    }
  }

  /** Graceful: commit what is pending, then refuse more. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Immediate: stop retrying; unacked messages stay with the broker for redelivery. */
  destroy(): void {
    this.closed = true;
    this.abort.abort();
    if (this.timer) clearTimeout(this.timer);
  }

  private pendingItems(): number {
    let n = 0;
    for (const p of this.pending) n += p.items;
    return n;
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.flushing || this.pending.length === 0) return;
    this.flushing = this.drain().finally(() => {
      this.flushing = null;
      if (this.pending.length > 0 && !this.abort.signal.aborted) {
        if (this.pendingItems() >= this.options.maxBatchItems) this.kick();
        else if (!this.timer) this.timer = setTimeout(() => this.kick(), this.options.maxBatchDelayMs);
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0 && !this.abort.signal.aborted) {
      const take: Pending[] = [];
      let items = 0;
      while (this.pending.length > 0 && (take.length === 0 || items + this.pending[0]!.items <= this.options.maxBatchItems)) {
        const next = this.pending.shift()!;
        take.push(next);
        items += next.items;
      }
      this.committingCount = take.length;
      try {
        await this.commit(take);
      } catch (err) {
        // Aborted by destroy(): leave the messages unacked for the broker to redeliver.
        this.committingCount = 0;
        if (!this.abort.signal.aborted) throw err;
        return;
      }
      this.committingCount = 0;
      for (const p of take) p.ack();
      this.options.instruments.inflightMessages.set(this.inflight);
      this.releaseCapacity();
      // Only batches that reached their size bound are committed back to back; a partial
      // one waits for the next timer so small batches do not become one commit per message.
      if (this.pendingItems() < this.options.maxBatchItems) break;
    }
  }

  private releaseCapacity(): void {
    while (this.capacityWaiters.length > 0 && this.hasCapacity()) this.capacityWaiters.shift()!();
  }

  private async commit(messages: Pending[]): Promise<void> {
    const batch = toBatch(messages);
    const started = process.hrtime.bigint();
    try {
      await this.writeWithRetry(batch);
    } catch (err) {
      if (!this.options.sink.isContentError(err)) throw err;
      await this.isolatePoison(messages, err);
      return;
    }
    this.recordCommit(batch, started);
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
  private async isolatePoison(messages: Pending[], cause: unknown): Promise<void> {
    if (messages.length === 1) {
      const { message, processed } = messages[0]!;
      this.options.logger.warn({ err: cause, deviceId: processed.deviceId, topic: message.topic }, 'store refused a message; dead-lettering it');
      const deadLetters: DeadLetter[] = [
        {
          receivedAt: message.receivedAt,
          topic: message.topic,
          decoder: processed.deadLetters[0]?.decoder ?? null,
          deviceId: processed.deviceId,
          code: 'store_rejected',
          reason: `the store refused this message: ${(cause as Error).message}`,
          field: null,
          payload: message.payload.subarray(0, this.options.deadLetterMaxBytes),
          payloadSize: message.payload.length,
        },
      ];
      const batch: Batch = { observations: [], deadLetters, devicesSeen: new Map() };
      await this.writeWithRetry(batch);
      this.recordCommit(batch, process.hrtime.bigint());
      return;
    }
    const half = Math.ceil(messages.length / 2);
    for (const part of [messages.slice(0, half), messages.slice(half)]) await this.commit(part);
  }

  private writeWithRetry(batch: Batch): Promise<void> {
    const { sink, logger, instruments, retryMinMs, retryMaxMs } = this.options;
    return pRetry(
      async () => {
        try {
          await sink.write(batch);
        } catch (err) {
          if (sink.isContentError(err)) throw new AbortError(err as Error);
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
