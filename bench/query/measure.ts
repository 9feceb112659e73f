/** Latency measurement: warm-up once, then the median and max of `runs` executions. */
export interface Timing {
  medianMs: number;
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
  return { medianMs: round(samples[Math.floor(samples.length / 2)]!), maxMs: round(samples[samples.length - 1]!), runs };
}
