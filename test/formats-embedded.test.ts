/**
 * The wire formats on the embedded stack (aedes broker, MQTT 3.1.1, and embedded PostgreSQL):
 * what `npm run demo` runs.
 */
import sparkplug from 'sparkplug-payload';
import t from 'tap';
import { golden, latestOf, type DeviceItem } from './helpers/formats.ts';
import { startTestPlatform } from './helpers/platform.ts';

const spb = sparkplug.get('spBv1.0')!;
const tp = await startTestPlatform({ embedded: true });
t.teardown(() => tp.stop());
const pub = await tp.publisher();
const P = tp.prefix;
const latest = (id: string, n: number) => latestOf(tp, id, n);

t.test('TTS, ChirpStack, SenML, NGSI and Sparkplug B through aedes', async (t) => {
  await pub.publishAsync(`${P}v3/capteurs/devices/eui-70b3d57ed005a1c4/up`, golden('ttn-v3', 'default-profile-unregistered'), { qos: 1 });
  await pub.publishAsync(`${P}application/a/device/0018b20000000a20/event/up`, golden('chirpstack-v4', 'up-no-codec'), { qos: 1 });
  await pub.publishAsync(`${P}vigie/emb-senml/senml`, golden('senml', 'relative-time-kelvin'), { qos: 1 });
  await pub.publishAsync(`${P}vigie/ngsi`, golden('ngsi', 'weather-normalized-v2'), { qos: 1 });
  await pub.publishAsync(
    `${P}spBv1.0/emb/NBIRTH/node-1`,
    Buffer.from(spb.encodePayload({ timestamp: Date.now(), seq: 0, metrics: [{ name: 'bdSeq', type: 'UInt64', value: 0 }, { name: 'Temperature', alias: 1, type: 'Float', value: 18.5 }] })),
    { qos: 1 },
  );
  t.equal((await latest('eui-70b3d57ed005a1c4', 5)).co2?.value, 650);
  t.equal((await latest('0018b20000000a20', 2)).rssi?.value, -103);
  t.equal((await latest('emb-senml', 1)).air_temperature?.value, 21.5);
  t.equal((await latest('rws-rd347-pr12', 6)).relative_humidity?.value, 93);
  t.equal((await latest('emb:node-1', 1)).air_temperature?.value, 18.5);
  t.equal((await tp.get<DeviceItem>('/api/v1/devices/emb:node-1')).body.online, true);
});
