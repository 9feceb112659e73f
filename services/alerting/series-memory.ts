/**
 * What the engine remembers of recent observations, so it evaluates incrementally instead of
 * querying the observations table: the latest point per series, when each device and each
 * device metric was last heard (observed time), and a short history for metrics that rate and
 * mean rules read.
 *
 * The history is bounded by the longest window in observed time and, for a series that reports
 * faster than HISTORY_POINTS readings per window, by count: its newest readings then fold into
 * buckets a 1/HISTORY_POINTS-th of the window wide (count, sum, first and last reading), so a
 * device sending every 50 ms costs what one sending every 7 s costs. A real station (one
 * reading a minute) never reaches the bound: its history stays exact.
 */
export interface Point {
  /** Observed time of the (last) reading. */
  t: number;
  /** The (last) reading. */
  v: number;
  /** A bucket of several readings: their count, sum and first time. */
  n?: number;
  sum?: number;
  t0?: number;
}

/** Readings kept per series and window before they fold into buckets. */
export const HISTORY_POINTS = 512;

const key = (device: string, metric: string, channel: string) => `${device}\u0000${metric}\u0000${channel}`;

export class SeriesMemory {
  private readonly latest = new Map<string, Point>();
  private readonly history = new Map<string, Point[]>();
  private readonly deviceSeen = new Map<string, number>();
  private readonly metricSeen = new Map<string, number>();

  /** @param retainMs how much history to keep per metric (0: latest only). */
  constructor(private retainMs: (metric: string) => number) {}

  setRetention(retainMs: (metric: string) => number): void {
    this.retainMs = retainMs;
  }

  /** Records a point; returns true when it is the newest of its series. */
  add(device: string, metric: string, channel: string, t: number, v: number): boolean {
    const k = key(device, metric, channel);
    const prev = this.latest.get(k);
    const newest = !prev || t >= prev.t;
    if (newest) this.latest.set(k, { t, v });
    if ((this.deviceSeen.get(device) ?? -Infinity) < t) this.deviceSeen.set(device, t);
    const mk = `${device}\u0000${metric}`;
    if ((this.metricSeen.get(mk) ?? -Infinity) < t) this.metricSeen.set(mk, t);
    const keep = this.retainMs(metric);
    if (keep > 0) {
      let h = this.history.get(k);
      if (!h) this.history.set(k, (h = []));
      // Usually appended in order; a late point is inserted at its place (observed time).
      let i = h.length;
      while (i > 0 && h[i - 1]!.t > t) i--;
      const before = h[i - 1];
      if (before && before.t === t) {
        // The same reading again (a redelivery): a single reading is replaced, a bucket keeps it.
        if (before.n === undefined) h[i - 1] = { t, v };
      } else if (before && i === h.length && h.length >= HISTORY_POINTS && t - (before.t0 ?? before.t) < keep / HISTORY_POINTS) {
        h[i - 1] = { t, v, n: (before.n ?? 1) + 1, sum: (before.sum ?? before.v) + v, t0: before.t0 ?? before.t };
      } else h.splice(i, 0, { t, v });
      const newestT = h[h.length - 1]!.t;
      let drop = 0;
      // Keep one point older than the window: the rate needs the value at the window start.
      while (drop + 1 < h.length && h[drop + 1]!.t <= newestT - keep) drop++;
      if (drop > 0) h.splice(0, drop);
    }
    return newest;
  }

  latestOf(device: string, metric: string, channel: string): Point | undefined {
    return this.latest.get(key(device, metric, channel));
  }

  /** Points of a series between from and to (inclusive), oldest first. */
  range(device: string, metric: string, channel: string, from: number, to: number): Point[] {
    const h = this.history.get(key(device, metric, channel));
    if (!h) return [];
    return h.filter((p) => p.t >= from && p.t <= to);
  }

  /** Last point at or before `t`. */
  at(device: string, metric: string, channel: string, t: number): Point | undefined {
    const h = this.history.get(key(device, metric, channel));
    if (!h) {
      const l = this.latest.get(key(device, metric, channel));
      return l && l.t <= t ? l : undefined;
    }
    for (let i = h.length - 1; i >= 0; i--) if (h[i]!.t <= t) return h[i];
    return undefined;
  }

  deviceLastSeen(device: string): number | undefined {
    return this.deviceSeen.get(device);
  }

  metricLastSeen(device: string, metric: string): number | undefined {
    return this.metricSeen.get(`${device}\u0000${metric}`);
  }

  devices(): IterableIterator<string> {
    return this.deviceSeen.keys();
  }
}
