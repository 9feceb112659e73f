/** Latency measurement: warm-up once, then the median, 95th percentile and max of `runs` executions. */
export interface Timing {
  medianMs: number;
  p95Ms: number;
  maxMs: number;
  runs: number;
}

export async function time(fn: () => Promise<unknown>, runs = 5): Promise<Timing> {
  await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  samples.sort((a, b) => a - b);
  const round = (v: number) => Math.round(v * 10) / 10;
  return { medianMs: round(samples[Math.floor(samples.length / 2)]!), p95Ms: round(samples[Math.min(samples.length - 1, Math.ceil(samples.length * 0.95) - 1)]!), maxMs: round(samples[samples.length - 1]!), runs };
}
