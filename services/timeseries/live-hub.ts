/**
 * Live observations for Server-Sent Events, from the durable commit feed (commit_log), so a
 * client connected to any process sees the commits of every process. Event ids are
 * `<commit seq>:<index in the commit>`, the same on every process: a client that reconnects
 * to another process with Last-Event-ID gets what it missed from the feed, as long as the
 * feed still holds it (VIGIE_COMMIT_LOG_RETENTION_MINUTES); otherwise it gets a `reset` event
 * telling it to re-read history from the API. Only committed data ever enters the feed.
 */
import { METRICS, isMetricName, type Observation } from '../../schemas/index.ts';
import type { CommitEntry } from '../cluster/commit-log.ts';
import type { FeedHub } from '../cluster/feed-hub.ts';

export interface LiveEvent {
  seq: number;
  index: number;
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
  /** `complete`: the delivery's whole array, shared by every unfiltered subscriber. */
  send(events: LiveEvent[], complete: boolean): void;
}

export interface LiveHubOptions {
  feed: FeedHub<CommitEntry>;
  domainOf: (deviceId: string) => string | undefined;
  /** Most commit entries one resumption may replay. */
  replayMax: number;
  /** Highest seq pruned from the feed (ids at or below it cannot be resumed). */
  prunedUpTo: () => Promise<number>;
}

export class LiveHub {
  constructor(private readonly o: LiveHubOptions) {}

  eventId(e: LiveEvent): string {
    return `${e.seq}:${e.index}`;
  }

  /** The feed position this process has served up to (for a resuming client). */
  get position(): number {
    return this.o.feed.position;
  }

  /** Events of entries, each built once per entry (shared by every subscriber). */
  private readonly built = new WeakMap<CommitEntry, LiveEvent[]>();

  private eventsOf(entry: CommitEntry): LiveEvent[] {
    let out = this.built.get(entry);
    if (!out) {
      out = entry.observations.map((obs, index) => ({
        seq: entry.seq,
        index,
        domain: this.o.domainOf(obs.deviceId) ?? (isMetricName(obs.metric) ? METRICS[obs.metric].domain : 'other'),
        obs,
      }));
      this.built.set(entry, out);
    }
    return out;
  }

  private events(entries: CommitEntry[], filter: LiveFilter, after?: { seq: number; index: number }): LiveEvent[] {
    const out: LiveEvent[] = [];
    for (const entry of entries) {
      for (const e of this.eventsOf(entry)) {
        if (after && e.seq === after.seq && e.index <= after.index) continue;
        if (matches(filter, e)) out.push(e);
      }
    }
    return out;
  }

  /**
   * Live events for a subscriber. A subscriber without a filter gets the same array as every
   * other one for a delivery (`complete`), so its text can be built once for all of them.
   */
  subscribe(s: Subscriber): () => void {
    const unfiltered = !s.filter.devices && !s.filter.metrics && !s.filter.domains;
    return this.o.feed.subscribe({
      send: (entries) => {
        const mine = unfiltered ? this.all(entries) : this.events(entries, s.filter);
        if (mine.length > 0) s.send(mine, unfiltered);
      },
    });
  }

  private readonly delivered = new WeakMap<CommitEntry[], LiveEvent[]>();

  private all(entries: CommitEntry[]): LiveEvent[] {
    let out = this.delivered.get(entries);
    if (!out) this.delivered.set(entries, (out = entries.flatMap((e) => this.eventsOf(e))));
    return out;
  }

  /**
   * Events after `lastEventId` up to feed position `upTo`, or null when they cannot be replayed
   * (an id from before this feed, pruned, or too many to replay).
   */
  async since(lastEventId: string, filter: LiveFilter, upTo: number): Promise<LiveEvent[] | null> {
    const m = /^(\d+):(\d+)$/.exec(lastEventId);
    if (!m) return null;
    const after = { seq: Number(m[1]), index: Number(m[2]) };
    if (after.seq > upTo) return null;
    if (after.seq < (await this.o.prunedUpTo())) return null;
    // The entry of the last event itself holds the rest of its commit.
    const entries = await this.o.feed.replay(after.seq - 1, upTo, this.o.replayMax);
    if (entries === null) return null;
    return this.events(entries, filter, after);
  }
}

function matches(f: LiveFilter, e: LiveEvent): boolean {
  return (!f.devices || f.devices.has(e.obs.deviceId)) && (!f.metrics || f.metrics.has(e.obs.metric)) && (!f.domains || f.domains.has(e.domain));
}
