/**
 * Gap filling of bucketed series: `null` keeps empty buckets with null values, `previous`
 * carries the last known value forward, `linear` interpolates in time between the known
 * neighbours (never extrapolates past the first or last known bucket). `count` is a fact
 * about the bucket, not a measurement: it stays 0 in filled buckets.
 */
export type FillMode = 'none' | 'null' | 'previous' | 'linear';

export type Point = { time: string } & Record<string, number | null | string>;

export function fillGaps(points: Point[], aggregates: string[], mode: FillMode): Point[] {
  // `__n` is the bucket's row count, carried by the query and stripped before output.
  if (mode === 'none') return points.filter((p) => (p.__n as number) > 0);
  if (mode === 'null') return points;
  const filled = points.map((p) => ({ ...p }));
  for (const agg of aggregates) {
    if (agg === 'count') continue;
    if (mode === 'previous') {
      let prev: number | null = null;
      for (const p of filled) {
        if (p[agg] === null) p[agg] = prev;
        else prev = p[agg] as number;
      }
      continue;
    }
    let lastIdx = -1;
    for (let i = 0; i < filled.length; i++) {
      if (filled[i]![agg] === null) continue;
      if (lastIdx >= 0 && i - lastIdx > 1) {
        const t0 = Date.parse(filled[lastIdx]!.time);
        const t1 = Date.parse(filled[i]!.time);
        const v0 = filled[lastIdx]![agg] as number;
        const v1 = filled[i]![agg] as number;
        for (let j = lastIdx + 1; j < i; j++) {
          const tj = Date.parse(filled[j]!.time);
          filled[j]![agg] = v0 + ((v1 - v0) * (tj - t0)) / (t1 - t0);
        }
      }
      lastIdx = i;
    }
  }
  return filled;
}
