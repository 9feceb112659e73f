/**
 * `vigie export`: download an export from a running Vigie (GET /api/v1/export) to a file or
 * stdout, with a progress bar on stderr sized by the server's X-Vigie-Estimated-Rows.
 */
import { createWriteStream } from 'node:fs';
import { Writable } from 'node:stream';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';

interface ExportOptions {
  api: string;
  /** API token (VIGIE_TOKEN): on the command line it would show in the process list. */
  token?: string;
  device?: string;
  metric?: string;
  channel?: string;
  from: string;
  to: string;
  format: 'csv' | 'ndjson';
  bucket?: string;
  agg?: string;
  tz?: string;
  out?: string;
  progress: boolean;
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('Export raw or aggregated observations (CSV or NDJSON) from a running Vigie, with a progress bar')
    .option('--api <url>', 'Vigie API base URL', process.env.VIGIE_API_URL ?? 'http://127.0.0.1:3000')
    .option('--token <token>', 'API token (default: the VIGIE_TOKEN environment variable, which keeps it out of the process list)')
    .option('-d, --device <ids>', 'device ids, comma-separated (default: all)')
    .option('-m, --metric <names>', 'metrics, comma-separated (default: all)')
    .option('--channel <channel>', 'one channel (lane, zone)')
    .requiredOption('--from <time>', 'start, ISO 8601 (inclusive; required)')
    .requiredOption('--to <time>', 'end, ISO 8601 (exclusive; required)')
    .option('-f, --format <format>', 'csv or ndjson', 'csv')
    .option('-b, --bucket <bucket>', 'aggregate into buckets (1m..1M); raw rows when absent')
    .option('-a, --agg <aggregates>', 'aggregates with --bucket: avg,min,max,sum,count,last,pNN', 'avg')
    .option('--tz <zone>', 'time zone of calendar buckets', 'Europe/Paris')
    .option('-o, --out <file>', 'output file (default: stdout)')
    .option('--no-progress', 'no progress bar')
    .action(async (opts: ExportOptions) => {
      const code = await runExport(opts);
      // Explicit exit on failure: the tsx loader does not carry process.exitCode through.
      if (code !== 0) process.exit(code);
    });
}

export async function runExport(opts: ExportOptions): Promise<number> {
  const url = new URL('/api/v1/export', opts.api);
  const set = (k: string, v: string | undefined) => v !== undefined && url.searchParams.set(k, v);
  set('device', opts.device);
  set('metric', opts.metric);
  set('channel', opts.channel);
  set('from', opts.from);
  set('to', opts.to);
  set('format', opts.format);
  set('bucket', opts.bucket);
  if (opts.bucket) set('agg', opts.agg);
  set('tz', opts.tz);
  let res: Response;
  try {
    const token = opts.token ?? process.env.VIGIE_TOKEN;
    res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  } catch (err) {
    process.stderr.write(`export failed: cannot reach ${opts.api}: ${(err as Error).message}\n`);
    return 1;
  }
  if (!res.ok || !res.body) {
    process.stderr.write(`export failed: HTTP ${res.status} ${await res.text()}\n`);
    return 1;
  }
  const total = Number(res.headers.get('x-vigie-estimated-rows') ?? 0);
  const out = opts.out ? createWriteStream(opts.out) : process.stdout;
  const bar = opts.progress && (opts.out || !process.stdout.isTTY) ? new cliProgress.SingleBar({ stream: process.stderr, noTTYOutput: true, notTTYSchedule: 2000, format: 'export [{bar}] {percentage}% | {value}/{total} rows | {eta_formatted} left' }, cliProgress.Presets.shades_classic) : null;
  bar?.start(Math.max(total, 1), 0);
  let rows = opts.format === 'csv' ? -1 : 0; // the CSV header is not a row
  const sink = Writable.toWeb(out as Writable);
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) rows++;
      // The estimate comes from rollups; grow the bar rather than overflow it.
      if (bar) {
        if (rows > bar.getTotal()) bar.setTotal(rows);
        bar.update(Math.max(rows, 0));
      }
      controller.enqueue(chunk);
    },
  });
  try {
    await res.body.pipeThrough(counter).pipeTo(sink);
  } catch (err) {
    bar?.stop();
    process.stderr.write(`export interrupted after ${rows} rows: ${(err as Error).message}\n`);
    return 1;
  }
  if (bar) {
    bar.setTotal(Math.max(rows, 1));
    bar.update(Math.max(rows, 0));
    bar.stop();
  }
  if (opts.out) process.stderr.write(`${Math.max(rows, 0)} rows written to ${opts.out}\n`);
  return 0;
}
