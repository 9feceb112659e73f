/**
 * `vigie simulate`: the simulated département on a broker (real time, accelerated, backfill),
 * with faults on demand; or `--scenario` with `--check` against a running Vigie.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseDuration, parseInstant } from '../../simulators/fleet/durations.ts';
import { parseFaultFlag, resolveFaults } from '../../simulators/fleet/faults.ts';
import { runFleet } from '../../simulators/fleet/run.ts';
import { openWriter, type RecordingWriter } from '../../simulators/recordings/format.ts';
import { DEFAULT_SCENARIO_SPEED, runAndCheck, runScenario } from '../../simulators/scenario/run.ts';
import { formatReport } from '../../simulators/scenario/check.ts';
import { loadScenario } from '../../simulators/scenario/schema.ts';
import { brokerFrom, fail, parseSpeed, withBrokerOptions, type BrokerFlags } from './broker-options.ts';

interface Options extends BrokerFlags {
  registry: string;
  interval?: string;
  duration?: string;
  from?: string;
  modelTime?: string;
  speed?: string;
  prefix: string;
  seed?: string;
  fault: string[];
  record?: string;
  credentials?: string;
  scenario?: string;
  endAt?: string;
  check?: boolean;
  api: string;
  token?: string;
  settle: string;
  json?: boolean;
  progress: boolean;
}

const seconds = (flag: string, v: string) => {
  const ms = /^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : parseDuration(v);
  if (ms === undefined || ms <= 0) fail(`${flag}: expected seconds or a duration (90, 30m, 6h), got ${v}`);
  return ms / 1000;
};

export function registerSimulate(program: Command): void {
  withBrokerOptions(
    program
      .command('simulate')
      .description('Publish a simulated département (road-weather stations, traffic counters, school buildings) in the devices\' own wire formats; run a scenario and check a Vigie against it'),
  )
    .option('-r, --registry <file>', 'device registry describing the fleet', 'infra/demo/devices.yaml')
    .option('--interval <seconds>', "every device reports every N seconds instead of its own period")
    .option('--duration <span>', 'simulated span (seconds or 30m, 6h, 2d); default: until interrupted')
    .option('--from <instant>', 'first observation time: now, -6h, or ISO 8601 with a zone (default now)')
    .option('--model-time <instant>', 'run the device models from this instant (a January night) while observation times start at --from')
    .option('--speed <factor>', 'simulated seconds per real second (1, 60) or "max" (backfill as fast as the broker takes it); never runs ahead of now', undefined)
    .option('--prefix <prefix>', 'topic prefix (must match VIGIE_TOPIC_PREFIX)', '')
    .option('--seed <n>', "random seed: same seed, same messages (default 1, or the scenario's own)")
    .option('--fault <spec>', 'inject a fault: type[:dev1+dev2][@from[..to]][,key=value] (repeatable), e.g. dropout:tc-rd910-pr40@1h..2h, late@0s,delay=20m,probability=0.2', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--credentials <file>', 'JSON {username: password} from `vigie credentials provision`: each device and gateway logs in as itself (otherwise --username/--password or MQTT_USERNAME/MQTT_PASSWORD, if set, for every connection)')
    .option('--record <file>', 'also write what is published to a recording (NDJSON, .gz to compress)')
    .option('--scenario <name|file>', 'run a scenario (ice-night, rush-hour-incident, poor-ventilation, boiler-failure, silent-devices, or a YAML file)')
    .option('--end-at <instant>', 'with --scenario: observation time of its end (default now; the scenario\'s own start + span keeps its nominal dates)')
    .option('--check', 'with --scenario: check the Vigie behind the broker through its HTTP API, exit 1 on a mismatch')
    .option('--api <url>', 'Vigie HTTP API for --check (env VIGIE_API_URL)', process.env.VIGIE_API_URL ?? 'http://127.0.0.1:3000')
    .option('--token <token>', 'API token for --check, sent as Authorization: Bearer (env VIGIE_TOKEN)')
    .option('--settle <duration>', 'wait after the data is stored, for the alert timer (Vigie ticks every 5 s)', '6s')
    .option('--json', 'print the check report as JSON')
    .option('--no-progress', 'no live progress line on stderr')
    .action(async (o: Options) => {
      const broker = brokerFrom(o);
      let credentials: Record<string, string> | undefined;
      try {
        credentials = o.credentials ? (JSON.parse(readFileSync(o.credentials, 'utf8')) as Record<string, string>) : undefined;
      } catch (err) {
        fail(`--credentials: ${(err as Error).message}`);
      }
      let faults;
      try {
        faults = o.fault.map(parseFaultFlag);
      } catch (err) {
        fail((err as Error).message);
      }
      let writer: RecordingWriter | undefined;
      // The recording keeps topics without the prefix and the delivery time as receive time.
      const recordTo = () =>
        o.record
          ? ((writer = openWriter(o.record, { createdAt: new Date().toISOString(), source: `vigie simulate${o.scenario ? ` --scenario ${o.scenario}` : ''} --seed ${o.seed ?? 'default'}` })),
            (m: { at: number }, topic: string, payload: Buffer, offset: number) => writer!.write({ t: m.at + offset, topic, qos: 1, retain: false, payload }))
          : undefined;
      if (o.scenario) {
        let scenario;
        try {
          scenario = loadScenario(o.scenario);
        } catch (err) {
          fail((err as Error).message);
        }
        // The scenario's own speed unless --speed says otherwise.
        const speed = o.speed === undefined ? undefined : parseSpeed(o.speed, DEFAULT_SCENARIO_SPEED);
        const rec = recordTo();
        let endAt: number | undefined;
        try {
          endAt = o.endAt ? parseInstant(o.endAt) : undefined;
        } catch (err) {
          fail((err as Error).message);
        }
        const common = { endAt, credentials, broker, topicPrefix: o.prefix, speed, seed: o.seed === undefined ? undefined : Number(o.seed), extraFaults: faults, progress: o.progress, log: (l: string) => process.stderr.write(`${l}\n`), onRecord: rec };
        if (!o.check) {
          const r = await runScenario(scenario, common);
          await writer?.close();
          process.stdout.write(`scenario ${scenario.name}: ${r.fleet.published} messages published, observation times ${new Date(r.fleet.start + r.offsetMs).toISOString()} .. ${new Date(r.fleet.end + r.offsetMs).toISOString()}\n`);
          return;
        }
        let report;
        try {
          report = await runAndCheck(scenario, { ...common, api: { url: o.api, token: o.token ?? process.env.VIGIE_TOKEN }, settleMs: parseDuration(o.settle) ?? 6000 });
        } catch (err) {
          // An unreachable API or a refused token is not a scenario result: exit 2, not 1.
          fail(`check against ${o.api}: ${(err as Error).message}`);
        }
        await writer?.close();
        process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
        process.exitCode = report.ok ? 0 : 1;
        return;
      }
      const now = Date.now();
      let from: number;
      let model: number | undefined;
      try {
        from = o.from ? parseInstant(o.from, now) : now;
        model = o.modelTime ? parseInstant(o.modelTime, now) : undefined;
      } catch (err) {
        fail((err as Error).message);
      }
      const start = model ?? from;
      const rec = recordTo();
      const offsetMs = model !== undefined ? Math.floor(from / 1000) * 1000 - Math.floor(model / 1000) * 1000 : 0;
      const result = await runFleet({
        broker,
        registryPath: o.registry,
        credentials,
        intervalSeconds: o.interval ? seconds('--interval', o.interval) : undefined,
        durationSeconds: o.duration ? seconds('--duration', o.duration) : undefined,
        topicPrefix: o.prefix,
        seed: Number(o.seed ?? 1),
        start,
        offsetMs,
        speed: parseSpeed(o.speed, 1),
        faults: resolveFaults(faults ?? [], start),
        progress: o.progress,
        onMessage: rec ? (m, topic, payload) => rec(m, topic, payload, offsetMs) : undefined,
        log: (l) => process.stderr.write(`${l}\n`),
      });
      await writer?.close();
      process.stdout.write(`${JSON.stringify({ published: result.published, errors: result.errors, generated: result.generated, from: new Date(result.start + offsetMs).toISOString(), to: new Date(result.end + offsetMs).toISOString(), seconds: result.wallMs / 1000, behindMaxSeconds: result.maxLagMs / 1000 })}\n`);
      if (result.errors > 0) process.exitCode = 1;
    });
}
