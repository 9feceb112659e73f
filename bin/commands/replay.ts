/** `vigie replay`: a recording back on a broker, paced, shifted in time, devices cloned or renamed. */
import type { Command } from 'commander';
import { parseDuration, parseInstant } from '../../simulators/fleet/durations.ts';
import { replay } from '../../simulators/recordings/replay.ts';
import { parseRule } from '../../simulators/recordings/rewrite.ts';
import { brokerFrom, fail, parseSpeed, withBrokerOptions, type BrokerFlags } from './broker-options.ts';

interface Options extends BrokerFlags {
  speed?: string;
  shift?: string;
  shiftTo?: string;
  clone?: string;
  cloneOnly?: boolean;
  rewrite: string[];
  prefix: string;
  stripPrefix?: string;
  progress: boolean;
}

export function registerReplay(program: Command): void {
  withBrokerOptions(program.command('replay <file>').description('Play a recording back: original pacing, faster, or as fast as possible; timestamps inside payloads shifted; devices cloned or renamed'))
    .option('--speed <factor>', 'pacing: 1 (original), 60, or "max"', '1')
    .option('--shift <offset>', 'move every timestamp by this much: +24h, -3d, 90m')
    .option('--shift-to <instant>', 'move the first message to this instant: now, -8h, or ISO 8601 with a zone')
    .option('--clone <n>', 'also replay every device as n clones (<id>-c1.. ; DevEUIs stay DevEUIs)')
    .option('--clone-only', 'with --clone: only the clones, not the original devices')
    .option('--rewrite <from=to>', 'replace text in topics and payload strings (repeatable): rws-rd910-pr42=rws-test-1', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--prefix <prefix>', 'topic prefix to add (VIGIE_TOPIC_PREFIX of the target)', '')
    .option('--strip-prefix <prefix>', 'topic prefix to remove first (the one of the recorded broker)')
    .option('--no-progress', 'no progress line on stderr')
    .action(async (file: string, o: Options) => {
      if (o.shift && o.shiftTo) fail('--shift and --shift-to are exclusive');
      const shiftMs = o.shift ? parseDuration(o.shift) : undefined;
      if (o.shift && shiftMs === undefined) fail(`--shift: expected +24h, -3d, 90m, got ${o.shift}`);
      let shiftTo: number | 'now' | undefined;
      try {
        shiftTo = o.shiftTo === 'now' ? 'now' : o.shiftTo ? parseInstant(o.shiftTo) : undefined;
      } catch (err) {
        fail((err as Error).message);
      }
      let rules;
      try {
        rules = o.rewrite.map(parseRule);
      } catch (err) {
        fail((err as Error).message);
      }
      const r = await replay({
        broker: brokerFrom(o),
        file,
        speed: parseSpeed(o.speed, 1),
        shiftMs,
        shiftTo,
        clones: o.clone ? Number(o.clone) : 0,
        keepOriginal: !o.cloneOnly,
        rules,
        topicPrefix: o.prefix,
        stripPrefix: o.stripPrefix,
        progress: o.progress,
      });
      process.stdout.write(`${JSON.stringify(r)}\n`);
      if (r.errors > 0) process.exitCode = 1;
    });
}
