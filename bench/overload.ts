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
import { startShippedMosquitto } from './broker.ts';

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
const pool = new pg.Pool({ connectionString: db.url, max: 2 });
pool.on('error', () => {});
const metric = (name: string) => platform.metric(name).catch(() => NaN);
const base = Date.now() - 3_600_000;
let published = 0;
/** Publishes the broker did not acknowledge (never stored by design: not a Vigie loss). */
const unacknowledged = new Set<number>();
let stop = false;

async function publisher(k: number): Promise<void> {
  const pub = await mqtt.connectAsync(broker.url, { clientId: `overload-pub-${k}-${prefix.slice(1, 7)}`, protocolVersion: 5 });
  let inflight = 0;
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (!stop && inflight < 1000) {
        const i = published++;
        inflight++;
        const metrics: Record<string, number> = {};
        for (let m = 0; m < M; m++) metrics[METRIC_POOL[m % METRIC_POOL.length]!] = (i % 100) / 10 + m;
        // Each message its own observation time (0.1 ms apart, as microseconds are kept).
        pub.publish(`${prefix}vigie/ov-${i % 500}/telemetry`, JSON.stringify({ ts: new Date(base + i / 10).toISOString(), metrics }), { qos: 1 }, (err) => {
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
// Drained when every acknowledged publish is in (stored_total also counts redelivered rows).
const countRows = async () => Number((await pool.query('select count(*) as n from observation_rows')).rows[0].n);
let last = -1;
let still = 0;
while (Date.now() < deadline) {
  const n = await countRows();
  if (n >= (published - unacknowledged.size) * M) break;
  // Nothing new for a minute with nothing in flight: what is missing will not come.
  still = n === last && (await metric('vigie_inflight_messages')) === 0 ? still + 1 : 0;
  if (still >= 60) break;
  last = n;
  await new Promise((r) => setTimeout(r, 1000));
}
clearInterval(sampler);
// Fresh statistics first: planned from an empty table's, the distinct count below spilled a
// hash aggregate for over a quarter of an hour on 3.3 million rows.
await pool.query('analyze observation_values');
const rows = Number((await pool.query('select count(*) as n from observation_rows')).rows[0].n);
const distinct = Number((await pool.query('select count(*) as n from (select distinct series_id, time from observation_rows) d')).rows[0].n);
// Each device's messages are 50 ms of observation time apart (device i % 500, time i / 10 ms):
// a gap inside a series' range is a message that was published and is not stored.
const { rows: gapRows } = await pool.query<{ missing: string | null }>(
  `with g as (select series_id, time, lead(time) over (partition by series_id order by time) as nxt from observation_rows)
   select sum(round(extract(epoch from nxt - time) * 1000 / 50) - 1) as missing from g where nxt - time > interval '50 ms'`,
);
const missingInsideRanges = Number(gapRows[0]?.missing ?? 0);
const during = samples.filter((s) => s.t <= SECONDS);
const storedRate = overloadEnd ? overloadEnd.stored / overloadEnd.t : 0;
platform.child.kill('SIGTERM');
await platform.exited;
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
      doubled: rows - distinct,
      rssEvery10s: during.filter((s) => s.t % 10 === 0).map((s) => [s.t, s.rssMiB]),
    },
    null,
    2,
  )}\n`,
);
