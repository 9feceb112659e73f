/**
 * npm run bench:overload -- [--seconds 180] [--publishers 4] [--metrics 5] [--broker URL]
 *
 * Vigie's resident memory under a sustained overload: publishers send QoS 1 messages as fast as
 * the broker takes them for `--seconds`, far above what Vigie commits (the JSON reports the
 * ratio reached), to a child `vigie start` with every module on. Vigie's intake is bounded by
 * VIGIE_MAX_INFLIGHT unacknowledged messages (MQTT 5 Receive Maximum): the broker keeps the
 * rest, so resident memory must level off instead of growing with the backlog. Afterwards the
 * backlog drains and every observation is checked: none lost, none doubled. Prints JSON.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import pg from 'pg';
import { createBenchDatabase as createTestDatabase } from './database.ts';
import { startChildPlatform } from '../test/helpers/child-platform.ts';
import { startShippedMosquitto } from '../test/helpers/shipped-mosquitto.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '180' },
    publishers: { type: 'string', default: '4' },
    metrics: { type: 'string', default: '5' },
    broker: { type: 'string' },
  },
});
const SECONDS = Number(values.seconds);
const PUBLISHERS = Number(values.publishers);
const M = Number(values.metrics);
const METRIC_POOL = ['air_temperature', 'relative_humidity', 'surface_temperature', 'dew_point', 'wind_speed', 'pressure', 'co2', 'battery'];
const broker = values.broker ? { url: values.broker, stop: async () => {} } : await startShippedMosquitto();
const db = await createTestDatabase('overload');
const prefix = `o${randomBytes(3).toString('hex')}/`;
const platform = await startChildPlatform({
  DATABASE_URL: db.url,
  MQTT_URL: broker.url,
  VIGIE_TIMESCALE: 'off',
  VIGIE_TOPIC_PREFIX: prefix,
  VIGIE_MQTT_CLIENT_ID: `overload-${prefix.slice(1, 7)}`,
  VIGIE_LOG_LEVEL: 'warn',
});
// A benchmark that fails must not leave its Vigie running.
process.on('exit', () => platform.child.kill('SIGKILL'));
const pool = new pg.Pool({ connectionString: db.url, max: 2 });
pool.on('error', () => {});
const metric = (name: string) => platform.metric(name).catch(() => NaN);
const base = Date.now() - 3_600_000;
let published = 0;
/** Publishes the broker did not acknowledge (never stored by design: not a Vigie loss). */
const unacknowledged = new Set<number>();
let stop = false;

/** Devices per publisher: each device is published by one publisher only, in time order. */
const DEVICES_EACH = 125;
/** Observation time between two messages of one device. */
const STEP_MS = 50;

async function publisher(k: number): Promise<void> {
  const pub = await mqtt.connectAsync(broker.url, { clientId: `overload-pub-${k}-${prefix.slice(1, 7)}`, protocolVersion: 5 });
  let inflight = 0;
  let j = 0;
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (!stop && inflight < 1000) {
        const i = published++;
        const n = j++;
        inflight++;
        const metrics: Record<string, number> = {};
        for (let m = 0; m < M; m++) metrics[METRIC_POOL[m % METRIC_POOL.length]!] = (i % 100) / 10 + m;
        // Device k + PUBLISHERS * (n % 125) of this publisher, 50 ms of observation time after
        // its previous message: every device's readings come in time order, as a real device's
        // do, and a message missing from storage is a gap inside its series.
        const device = k + PUBLISHERS * (n % DEVICES_EACH);
        const ts = base + Math.floor(n / DEVICES_EACH) * STEP_MS;
        pub.publish(`${prefix}vigie/ov-${device}/telemetry`, JSON.stringify({ ts: new Date(ts).toISOString(), metrics }), { qos: 1 }, (err) => {
          inflight--;
          if (err) unacknowledged.add(i);
          if (stop && inflight === 0) resolve();
          else if (!stop) pump();
        });
      }
      if (stop && inflight === 0) resolve();
    };
    pump();
  });
  await pub.endAsync();
}

const samples: Array<{ t: number; rssMiB: number; stored: number; inflight: number }> = [];
const started = Date.now();
const sampler = setInterval(() => {
  void Promise.all([metric('vigie_process_process_resident_memory_bytes'), metric('vigie_observations_stored_total'), metric('vigie_inflight_messages')]).then(([rss, stored, inflight]) =>
    samples.push({ t: Math.round((Date.now() - started) / 1000), rssMiB: Math.round(rss / 1048576), stored, inflight }),
  );
}, 1000);
const publishers = Array.from({ length: PUBLISHERS }, (_, k) => publisher(k));
await new Promise((r) => setTimeout(r, SECONDS * 1000));
stop = true;
await Promise.all(publishers);
const overloadEnd = samples[samples.length - 1];
const deadline = Date.now() + 30 * 60_000;
// Drained once nothing is in flight and nothing was stored for 30 seconds: the broker has
// handed over its whole queue (no count over the growing table meanwhile, which would slow
// the drain it measures).
let lastStored = -1;
let quiet = 0;
while (Date.now() < deadline && quiet < 30) {
  const [stored, inflight] = await Promise.all([metric('vigie_observations_stored_total'), metric('vigie_inflight_messages')]);
  quiet = stored === lastStored && inflight === 0 ? quiet + 1 : 0;
  lastStored = stored;
  await new Promise((r) => setTimeout(r, 1000));
}
const drainedAfterSeconds = Math.round((Date.now() - started) / 1000) - SECONDS;
clearInterval(sampler);
// One ordered pass over each series (the primary key's order): rows, doubles (a time equal to
// the previous one) and gaps (each device's messages are STEP_MS of observation time apart,
// so a gap inside a series' range is a message published and not stored).
const { rows: tally } = await pool.query<{ rows: string; doubled: string; missing: string | null }>(
  `select count(*) as rows, count(*) filter (where prev = time) as doubled,
          coalesce(sum(round(extract(epoch from time - prev) * 1000 / $1) - 1) filter (where time - prev > make_interval(secs => $1::float8 / 1000)), 0) as missing
     from (select time, lag(time) over (partition by series_id order by time) as prev from observation_rows) g`,
  [STEP_MS],
);
const rows = Number(tally[0]!.rows);
const doubledRows = Number(tally[0]!.doubled);
const distinct = rows - doubledRows;
const missingInsideRanges = Number(tally[0]!.missing);
const during = samples.filter((s) => s.t <= SECONDS);
const storedRate = overloadEnd ? overloadEnd.stored / overloadEnd.t : 0;
platform.child.kill('SIGTERM');
await platform.exited;
// Vigie's warnings and errors (reconnections, refused commits) go to stderr with the figures.
process.stderr.write(platform.output().split('\n').filter((l) => /"level":(4|5|6)0/.test(l)).slice(0, 200).join('\n') + '\n');
await pool.end();
await db.drop();
await broker.stop();
const rss = during.map((s) => s.rssMiB).filter((x) => x > 0);
process.stdout.write(
  `${JSON.stringify(
    {
      seconds: SECONDS,
      publishers: PUBLISHERS,
      messagesPublished: published,
      publishedPerSecond: Math.round(published / SECONDS),
      storedMessagesPerSecondDuringOverload: Math.round(storedRate / M),
      overloadRatio: Math.round((published / SECONDS / (storedRate / M || 1)) * 10) / 10,
      residentMiB: { first: rss[0], min: Math.min(...rss), max: Math.max(...rss), last: rss[rss.length - 1] },
      maxInflightMessages: Math.max(...during.map((s) => s.inflight).filter((x) => !Number.isNaN(x))),
      observationsExpected: published * M,
      publishesNotAcknowledgedByTheBroker: unacknowledged.size,
      // Only what the broker acknowledged must be stored.
      loss: (published - unacknowledged.size) * M - distinct,
      // Observations missing between the first and last of their series (whatever the reason).
      missingInsideSeriesRanges: missingInsideRanges,
      doubled: doubledRows,
      drainedAfterSeconds,
      rssEvery10s: during.filter((s) => s.t % 10 === 0).map((s) => [s.t, s.rssMiB]),
      residentMiBWhileDrainingMax: Math.max(...samples.filter((s) => s.t > SECONDS).map((s) => s.rssMiB).filter((x) => x > 0)),
    },
    null,
    2,
  )}\n`,
);
