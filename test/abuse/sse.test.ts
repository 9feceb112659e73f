/**
 * Live streams cannot exhaust the server: the number of streams is capped (503 past it), a
 * client that does not read is cut once its unsent bytes pass the cap or it stalls for a
 * heartbeat (stalled clients resuming with Last-Event-ID included), resident memory stays
 * bounded and /health answers throughout; an open stream does not hold up a graceful stop.
 * Real parts: `vigie start` as a child process, the machine's Mosquitto and PostgreSQL, raw
 * TCP clients that never read.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import t from 'tap';
import { startChildPlatform } from '../helpers/child-platform.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { authHeaders, TEST_MQTT_URL } from '../helpers/platform.ts';
import { publishWindow } from '../helpers/publisher.ts';
import { openSse } from '../helpers/sse.ts';
import { waitFor } from '../helpers/wait.ts';

const MAX_CLIENTS = 40;

/** A client that sends its request and never reads a byte of the answer. */
function stalledClient(port: number, lastEventId?: string): net.Socket {
  const s = net.connect(port, '127.0.0.1');
  s.write(`GET /api/v1/stream HTTP/1.1\r\nHost: vigie\r\nAccept: text/event-stream\r\nAuthorization: ${authHeaders().authorization}\r\n${lastEventId ? `Last-Event-ID: ${lastEventId}\r\n` : ''}\r\n`);
  s.pause();
  s.on('error', () => {});
  return s;
}

t.test('stalled SSE clients are capped and cut; memory stays bounded; /health answers', async (t) => {
  const db = await createTestDatabase('sse');
  const prefix = `s${randomBytes(4).toString('hex')}/`;
  const vigie = await startChildPlatform({
    DATABASE_URL: db.url,
    MQTT_URL: TEST_MQTT_URL,
    VIGIE_TOPIC_PREFIX: prefix,
    VIGIE_MQTT_CLIENT_ID: `sse-${prefix.slice(1, 9)}`,
    VIGIE_ALERTING: 'false',
    VIGIE_LOG_LEVEL: 'warn',
    VIGIE_STREAM_MAX_CLIENTS: String(MAX_CLIENTS),
    VIGIE_STREAM_MAX_BUFFER_BYTES: String(256 * 1024),
    VIGIE_STREAM_HEARTBEAT_MS: '1000',
    VIGIE_STREAM_REPLAY: '100000',
  });
  t.teardown(async () => {
    if (vigie.child.exitCode === null) {
      vigie.child.kill('SIGKILL');
      await vigie.exited;
    }
    await db.drop();
  });
  const port = Number(new URL(vigie.url).port);
  const metrics = 'air_temperature road_surface_temperature relative_humidity dew_point_temperature wind_speed'.split(' ');
  const burst = (n: number, from: number) =>
    publishWindow(
      TEST_MQTT_URL,
      Array.from({ length: n }, (_, i) => ({
        topic: `${prefix}vigie/sse-${i % 50}/telemetry`,
        payload: JSON.stringify({ ts: Date.now() - 600_000 + from + i, metrics: Object.fromEntries(metrics.map((m, k) => [m, k + (i % 10) / 10])) }),
      })),
      500,
    );

  // A reading client takes the first event id: the resuming attackers start from it.
  const reader = await openSse(`${vigie.url}/api/v1/stream`);
  await burst(20, 0);
  const first = await waitFor(() => reader.frames.find((f) => f.id), 15_000, 'a first event');
  reader.close();
  await waitFor(async () => (await vigie.metric('vigie_stream_clients')) === 0, 10_000, 'the reader to be gone');
  await burst(2000, 20); // history after the first event, for the resuming clients below

  const before = await vigie.metric('vigie_process_process_resident_memory_bytes');
  let peak = before;
  let health = 0;
  let healthFailed = 0;
  const watch = setInterval(() => {
    void vigie.metric('vigie_process_process_resident_memory_bytes').then((r) => (peak = Math.max(peak, r)), () => {});
    void fetch(`${vigie.url}/health`, { signal: AbortSignal.timeout(5000) }).then(
      (r) => (r.ok ? health++ : healthFailed++),
      () => healthFailed++,
    );
  }, 200);

  // Phase 1: the cap, then live data nobody reads.
  const attackers = Array.from({ length: MAX_CLIENTS }, () => stalledClient(port));
  let open = 0;
  await waitFor(async () => (open = await vigie.metric('vigie_stream_clients')) === MAX_CLIENTS, 10_000, 'all attackers connected').catch((err) => {
    throw new Error(`${(err as Error).message} (${open} open, cut ${vigie.output().match(/SSE stream closed[^\n]*/g)?.slice(0, 3).join(' / ')})`);
  });
  const refused = await fetch(`${vigie.url}/api/v1/stream`, { headers: authHeaders() });
  t.equal(refused.status, 503, 'one stream over the cap is refused');
  t.match(await refused.json(), { code: 'VIGIE_ERR_STREAM_FULL' });
  t.ok(refused.headers.get('retry-after'), 'with Retry-After');
  await burst(8000, 2000); // 40,000 observations: ~10 MB of frames for every stream
  await waitFor(async () => (await vigie.metric('vigie_stream_clients')) === 0, 20_000, 'every stalled stream to be cut');
  t.pass('every stalled stream was cut');
  for (const a of attackers) a.destroy();

  // Phase 2: stalled clients resuming from the first event (42,000 events missed each: told
  // to re-read them from the REST API), then live data they do not read.
  const resumers = Array.from({ length: MAX_CLIENTS }, () => stalledClient(port, first.id));
  await waitFor(async () => (open = await vigie.metric('vigie_stream_clients')) === MAX_CLIENTS, 10_000, 'all resuming attackers connected').catch((err) => {
    throw new Error(`${(err as Error).message} (${open} open, cut ${vigie.output().match(/SSE stream closed[^\n]*/g)?.slice(-3).join(' / ')})`);
  });
  await burst(8000, 10_000);
  await waitFor(async () => (await vigie.metric('vigie_stream_cut_total')) >= 2 * MAX_CLIENTS && (await vigie.metric('vigie_stream_clients')) === 0, 20_000, 'every resuming stalled stream to be cut');
  t.pass('every stalled resuming stream was cut');
  clearInterval(watch);
  for (const a of [...attackers, ...resumers]) a.destroy();
  const cut = await vigie.metric('vigie_stream_cut_total');
  t.ok(cut >= 2 * MAX_CLIENTS, `vigie_stream_cut_total = ${cut}`);
  t.ok(health > 0 && healthFailed === 0, `/health answered ${health} times during the attack, ${healthFailed} failed or took over 5 s`);
  const growth = peak - before;
  t.ok(growth < 200 * 1024 * 1024, `resident memory grew by ${Math.round(growth / 1048576)} MiB with ${MAX_CLIENTS} stalled streams at a time (bound 200 MiB; 800 MiB of frames were due)`);
  const again = await openSse(`${vigie.url}/api/v1/stream`);
  t.equal(again.status, 200, 'room for new streams again');

  // An open stream must not hold up a graceful stop.
  const started = Date.now();
  vigie.child.kill('SIGTERM');
  t.equal(await vigie.exited, 0, 'clean exit with a stream open');
  t.ok(Date.now() - started < 10_000, `stopped in ${Date.now() - started} ms`);
  again.close();
});
