/**
 * Dead-letter replay end to end: a LoRaWAN device sends keys no profile maps; the operator
 * registers it with a profile, restarts, replays; the values are stored once, the dead letter
 * is marked replayed, a second replay finds nothing, and the replay reports what failed again.
 */
import t from 'tap';
import type { ReplayReport } from '../services/formats/replay.ts';
import { createTestDatabase } from './helpers/database.ts';
import { byMetric, registryFile, type Dead, type Obs, type Page } from './helpers/formats.ts';
import { startTestPlatform } from './helpers/platform.ts';
import { waitFor } from './helpers/wait.ts';

type Report = ReplayReport;

const db = await createTestDatabase();
t.teardown(() => db.drop());
const prefix = `r${Date.now().toString(36)}/`;
const uplink = (deviceId: string, decoded: Record<string, unknown>) =>
  JSON.stringify({
    end_device_ids: { device_id: deviceId, application_ids: { application_id: 'routes-86' } },
    received_at: new Date(Date.now() - 2000).toISOString(),
    uplink_message: { f_port: 10, f_cnt: 5, decoded_payload: decoded, received_at: new Date(Date.now() - 2100).toISOString() },
  });

t.test('replay after adding a profile stores the values once', async (t) => {
  // 1. Unregistered: the default profile does not know the road-surface keys.
  const before = await startTestPlatform({ db, prefix });
  const pub = await before.publisher();
  await pub.publishAsync(`${prefix}v3/routes-86/devices/rsp-replay-1/up`, uplink('rsp-replay-1', { t_surf: -21, state: 5, grip: 55 }), { qos: 1 });
  // t_freeze -900 tenths = -90 °C is outside freezing_point's range once mapped: it must fail again.
  await pub.publishAsync(`${prefix}v3/routes-86/devices/rsp-replay-2/up`, uplink('rsp-replay-2', { t_freeze: -900 }), { qos: 1 });
  const dead = await waitFor(async () => {
    const r = await before.get<Page<Dead>>('/api/v1/dead-letters?code=unmapped_key&decoder=ttn-v3&status=open');
    return r.body.items.length >= 2 ? r.body.items : undefined;
  });
  // One dead letter per message, listing its unmapped keys.
  t.same(dead.map((d) => d.field!.split(',').sort().join(',')).sort(), [
    'uplink_message.decoded_payload.grip,uplink_message.decoded_payload.state,uplink_message.decoded_payload.t_surf',
    'uplink_message.decoded_payload.t_freeze',
  ]);
  t.match(dead.find((d) => d.deviceId === 'rsp-replay-1')!.reason, /^3 keys refused \(unmapped_key\): .*no profile maps key .* add it to the device's profile, then replay/);
  await before.stop();

  // 2. Registered with the road-surface profile, restarted on the same database.
  const registry = registryFile([
    { id: 'rsp-replay-1', kind: 'road-weather-station', domain: 'roads', profile: 'road-surface' },
    { id: 'rsp-replay-2', kind: 'road-weather-station', domain: 'roads', profile: 'road-surface' },
  ]);
  const after = await startTestPlatform({ db, prefix, env: { VIGIE_REGISTRY: registry } });
  t.teardown(() => after.stop());
  const replay = (body: unknown) => after.platform.app.inject({ method: 'POST', url: '/api/v1/dead-letters/replay', payload: body as object });

  const first = await replay({ decoder: 'ttn-v3', code: 'unmapped_key' });
  t.equal(first.statusCode, 200);
  // rsp-replay-2's unmapped key is resolved, but mapping it reveals an out-of-range value:
  // that is a new dead letter of its own (out_of_range), and the message counts as failed.
  t.same(first.json() as Report, { selected: 2, messages: 2, stored: 1, failed: 1, skipped: 0, observations: 3, resolved: 2 });
  const v = byMetric((await after.get<{ items: Obs[] }>('/api/v1/devices/rsp-replay-1/latest')).body.items);
  t.equal(v.surface_temperature?.value, -2.1);
  t.equal(v.surface_state?.value, 5);
  t.equal(v.friction?.value, 0.55);

  const again = await replay({ decoder: 'ttn-v3' });
  t.same(again.json() as Report, { selected: 1, messages: 1, stored: 0, failed: 1, skipped: 0, observations: 0, resolved: 0 }, 'only the new out-of-range dead letter is selected');
  const { rows } = await after.platform.pool.query(`select count(*)::int as n from observations where device_id = 'rsp-replay-1'`);
  t.equal(rows[0].n, 3, 'nothing stored twice');

  const open = await after.get<Page<Dead>>('/api/v1/dead-letters?decoder=ttn-v3&status=open');
  t.equal(open.body.items.length, 1);
  t.equal(open.body.items[0]!.deviceId, 'rsp-replay-2');
  t.equal(open.body.items[0]!.code, 'out_of_range');
  t.match(open.body.items[0]!.reason, /-90 °C is outside the physical range/, 'the reason says why it fails');
  t.equal(open.body.items[0]!.replayAttempts, 1, 'the failed attempt is counted');
  const replayed = await after.get<Page<Dead>>('/api/v1/dead-letters?decoder=ttn-v3&status=replayed');
  t.equal(replayed.body.items.length, 2);
  t.ok(replayed.body.items.every((d) => d.replayedAt !== null));

  const byIds = await replay({ ids: replayed.body.items.map((d) => d.id) });
  t.same((byIds.json() as Report).selected, 0, 'replayed dead letters are never replayed again');
  const badBody = await replay({ limit: 0 });
  t.equal(badBody.statusCode, 400);
});
