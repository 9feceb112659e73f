/** `vigie record`: live MQTT traffic into an NDJSON recording (gzip by `.gz` or --gzip). */
import type { Command } from 'commander';
import { parseDuration } from '../../simulators/fleet/durations.ts';
import { record } from '../../simulators/recordings/record.ts';
import { brokerFrom, fail, withBrokerOptions, type BrokerFlags } from './broker-options.ts';

const SIZE = /^(\d+(?:\.\d+)?)\s*(k|m|g)?i?b?$/i;

export function parseSize(text: string): number {
  const m = SIZE.exec(text.trim());
  if (!m) fail(`--max-bytes: expected a size such as 500k, 20MB, 1g, got ${text}`);
  return Math.round(Number(m[1]) * { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? '').toLowerCase() as '' | 'k' | 'm' | 'g']);
}

export function registerRecord(program: Command): void {
  withBrokerOptions(program.command('record').description('Record live MQTT traffic (topic, payload, QoS, retain, receive time) into NDJSON, gzip-compressed with .gz'))
    .requiredOption('-o, --out <file>', 'recording file (.ndjson, or .ndjson.gz to compress; required)')
    .option('-t, --topic <filter>', 'topic filter (repeatable; default #)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--gzip', 'compress even without the .gz suffix')
    .option('--max-bytes <size>', 'stop at this size (uncompressed): 500k, 20MB')
    .option('--max-messages <n>', 'stop after this many messages')
    .option('--duration <span>', 'stop after this long: 90s, 30m, 12h')
    .option('--no-progress', 'no progress line on stderr')
    .action(async (o: BrokerFlags & { out: string; topic: string[]; gzip?: boolean; maxBytes?: string; maxMessages?: string; duration?: string; progress: boolean }) => {
      const durationMs = o.duration ? parseDuration(o.duration) : undefined;
      if (o.duration && durationMs === undefined) fail(`--duration: expected 90s, 30m, 12h, got ${o.duration}`);
      await record({
        broker: brokerFrom(o),
        file: o.out,
        filters: o.topic.length ? o.topic : ['#'],
        gzip: o.gzip,
        maxBytes: o.maxBytes ? parseSize(o.maxBytes) : undefined,
        maxMessages: o.maxMessages ? Number(o.maxMessages) : undefined,
        durationMs,
        progress: o.progress,
      });
    });
}
