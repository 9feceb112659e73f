/** `vigie import traffic-csv|weather-csv`: operators' CSV files into recordings of native messages. */
import type { Command } from 'commander';
import { parseDuration } from '../../simulators/fleet/durations.ts';
import { importTrafficCsv, importWeatherCsv } from '../../simulators/recordings/import-csv.ts';
import { fail } from './broker-options.ts';

export function registerImport(program: Command): void {
  const cmd = program.command('import').description('Turn count and road-weather CSV files into recordings to replay');
  cmd
    .command('traffic-csv <file>')
    .description('6-minute traffic counts: station;lane;period_start;count;heavy;mean_speed;occupancy')
    .requiredOption('-o, --out <file>', 'recording to write (.ndjson or .ndjson.gz; required)')
    .option('--period <span>', 'counting period', '6m')
    .option('--zone <zone>', 'time zone of times written without one', 'Europe/Paris')
    .action(async (file: string, o: { out: string; period: string; zone: string }) => {
      const ms = parseDuration(o.period);
      if (!ms || ms <= 0) fail(`--period: expected 6m, 1m, 1h, got ${o.period}`);
      report(await importTrafficCsv(file, o.out, { periodSeconds: ms / 1000, zone: o.zone }), o.out);
    });
  cmd
    .command('weather-csv <file>')
    .description('road-weather station export: station;time;air_temperature;...;surface_state;... (README, "Simulators")')
    .requiredOption('-o, --out <file>', 'recording to write (.ndjson or .ndjson.gz; required)')
    .option('--zone <zone>', 'time zone of times written without one', 'Europe/Paris')
    .action(async (file: string, o: { out: string; zone: string }) => report(await importWeatherCsv(file, o.out, { zone: o.zone }), o.out));
}

function report(r: { rows: number; messages: number; skipped: Array<{ line: number; reason: string }> }, out: string): void {
  for (const s of r.skipped.slice(0, 20)) process.stderr.write(`line ${s.line} skipped: ${s.reason}\n`);
  process.stdout.write(`${JSON.stringify({ out, rows: r.rows, messages: r.messages, skipped: r.skipped.length })}\n`);
  if (r.skipped.length > 0) process.exitCode = 1;
}
