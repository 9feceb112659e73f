/**
 * Live observations for Server-Sent Events. Committed batches (never uncommitted data) enter a
 * ring buffer with increasing ids `<boot>-<seq>`; subscribers get what matches their filter.
 * A reconnecting client sends Last-Event-ID and receives what it missed, if the ring still
 * holds it; otherwise (restart, or too far behind) it gets a `reset` event telling it to
 * re-read history from the API. A subscriber that stops reading is cut off once its socket
 * buffer passes a bound, so one slow client cannot grow the server's memory; it resumes with
 * its last id.
 */
import { METRICS, isMetricName, type Observation } from '../../schemas/index.ts';
import type { Batch } from '../../ingest/running-sink.ts';

export interface LiveEvent {
  seq: number;
  domain: string;
  obs: Observation;
}

export interface LiveFilter {
  devices?: Set<string>;
  metrics?: Set<string>;
  domains?: Set<string>;
}

export interface Subscriber {
  filter: LiveFilter;
  send(events: LiveEvent[]): void;
}

export class LiveHub {
  /** Distinguishes this process's ids from a previous run's. */
  readonly boot = Date.now().toString(36);
  private readonly ring: LiveEvent[] = [];
  private seq = 0;
  private readonly subscribers = new Set<Subscriber>();

  constructor(
    private readonly capacity: number,
    private readonly domainOf: (deviceId: string) => string | undefined,
  ) {}

  eventId(seq: number): string {
    return `${this.boot}-${seq}`;
  }

  publish(batch: Batch): void {
    if (batch.observations.length === 0) return;
    const events: LiveEvent[] = batch.observations.map((obs) => ({
      seq: ++this.seq,
      domain: this.domainOf(obs.deviceId) ?? (isMetricName(obs.metric) ? METRICS[obs.metric].domain : 'other'),
      obs,
    }));
    if (this.capacity > 0) {
      this.ring.push(...events);
      if (this.ring.length > this.capacity) this.ring.splice(0, this.ring.length - this.capacity);
    }
    for (const s of this.subscribers) {
      const mine = events.filter((e) => matches(s.filter, e));
      if (mine.length > 0) s.send(mine);
    }
  }

  /**
   * Events after `lastEventId`, or null when they cannot be replayed (another process run, or
   * older than the ring).
   */
  since(lastEventId: string, filter: LiveFilter): LiveEvent[] | null {
    const m = /^([0-9a-z]+)-(\d+)$/.exec(lastEventId);
    if (!m || m[1] !== this.boot) return null;
    const last = Number(m[2]);
    if (last > this.seq) return null;
    const oldest = this.ring[0]?.seq ?? this.seq + 1;
    if (last < oldest - 1) return null;
    return this.ring.filter((e) => e.seq > last && matches(filter, e));
  }

  subscribe(s: Subscriber): () => void {
    this.subscribers.add(s);
    return () => this.subscribers.delete(s);
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }
}

function matches(f: LiveFilter, e: LiveEvent): boolean {
  return (!f.devices || f.devices.has(e.obs.deviceId)) && (!f.metrics || f.metrics.has(e.obs.metric)) && (!f.domains || f.domains.has(e.domain));
}
