/**
 * Every wire format end to end on the machine's real services: published to Mosquitto (NGSI
 * also POSTed over HTTP), decoded, stored in PostgreSQL and read back through the API.
 */
import sparkplug from 'sparkplug-payload';
import protoModule from 'sparkplug-payload/lib/sparkplugPayloadProto.js';
import { Encoder } from 'cbor-x';
import t from 'tap';
import { startTestPlatform } from './helpers/platform.ts';
import { waitFor } from './helpers/wait.ts';
import { golden, latestOf, registryFile, type Dead, type DeviceItem, type Obs, type Page } from './helpers/formats.ts';

const spb = sparkplug.get('spBv1.0')!;
const registry = registryFile([
  { id: 'rsp-rd910-pr42', kind: 'road-weather-station', domain: 'roads', profile: 'road-surface' },
  { id: 'e2e:edge-gtb', kind: 'gateway', domain: 'buildings', profile: 'gtb-edge-sparkplug' },
  { id: 'e2e:edge-gtb-30', kind: 'gateway', domain: 'buildings', profile: 'gtb-edge-sparkplug' },
]);
const tp = await startTestPlatform({ env: { VIGIE_REGISTRY: registry, VIGIE_SPARKPLUG_REBIRTH_INTERVAL_MS: '0', VIGIE_SPARKPLUG_REORDER_TIMEOUT_MS: '1500', VIGIE_ROUTES: 'bridge/lns/#=ttn-v3' } });
t.teardown(() => tp.stop());
const pub = await tp.publisher();
const P = tp.prefix;

const latest = (id: string, n: number) => latestOf(tp, id, n);

t.test('The Things Stack v3 uplink with a profile, sentinels dropped', async (t) => {
  await pub.publishAsync(`${P}v3/routes-86/devices/rsp-rd910-pr42/up`, golden('ttn-v3', 'road-surface-sentinels'), { qos: 1 });
  const v = await latest('rsp-rd910-pr42', 7);
  t.equal(v.surface_temperature?.value, -1.4);
  t.same(v.surface_temperature?.quality, ['converted']);
  t.equal(v.water_film?.value, 0.3);
  t.equal(v.water_film?.unit, 'mm');
  t.equal(v.friction?.value, 0.62);
  t.equal(v.surface_state?.value, 7);
  t.equal(v.rssi?.value, -118);
  t.notOk(v.subsurface_temperature, 'sentinel 1001 is missing, never a number');
  t.notOk(v.battery, 'sentinel 255 is missing');
  t.equal(v.surface_temperature?.time, '2026-01-15T05:30:01.100Z', 'observed at the network server receive time');
});

t.test('TTS uplink without decoded_payload is a dead letter naming the formatter', async (t) => {
  await pub.publishAsync(`${P}v3/colleges-86/devices/clg-s102-co2/up`, golden('ttn-v3', 'no-formatter'), { qos: 1 });
  const dead = await waitFor(async () => {
    const r = await tp.get<Page<Dead>>('/api/v1/dead-letters?decoder=ttn-v3&device=clg-s102-co2&reason=formatter');
    return r.body.items[0];
  });
  t.equal(dead.code, 'no_decoded_payload');
  t.equal(dead.field, 'uplink_message.decoded_payload');
  t.equal(dead.payload, golden('ttn-v3', 'no-formatter').toString('utf8'), 'raw payload kept');
  const v = await latest('clg-s102-co2', 2);
  t.equal(v.rssi?.value, -88, 'link quality is still stored');
});

t.test('ChirpStack v4 up and status events; device name and tags kept', async (t) => {
  await pub.publishAsync(`${P}application/7b1c/device/0018b20000000a1f/event/up`, golden('chirpstack-v4', 'up-with-object-tags'), { qos: 1 });
  await pub.publishAsync(`${P}application/7b1c/device/0018b20000000a1f/event/status`, golden('chirpstack-v4', 'status-battery'), { qos: 1 });
  const v = await latest('0018b20000000a1f', 7);
  t.equal(v.co2?.value, 700);
  t.equal(v.air_temperature?.value, 22.1);
  t.equal(v.battery?.value, 87.5);
  t.equal(v.snr?.value, 10);
  const d = await tp.get<DeviceItem>('/api/v1/devices/0018b20000000a1f');
  t.equal(d.body.name, 'Salle 204 CO2');
  t.equal(d.body.tags.building, 'college-camille-claudel');
});

t.test('SenML JSON and CBOR packs', async (t) => {
  await pub.publishAsync(`${P}vigie/senml-e2e-1/senml`, golden('senml', 'base-fields-units'), { qos: 1 });
  const cbor = new Encoder({ useRecords: false, mapsAsObjects: false });
  const now = Math.floor(Date.now() / 1000);
  await pub.publishAsync(
    `${P}vigie/senml-e2e-2/senml`,
    Buffer.from(cbor.encode([new Map<number, unknown>([[-1, 26], [-3, now], [-4, 'K'], [0, 'temperature'], [2, 273.15]]), new Map<number, unknown>([[0, 'co2'], [1, 'ppm'], [2, 950]])])),
    { qos: 1 },
  );
  const a = await latest('senml-e2e-1', 5);
  t.equal(a.pressure?.value, 1013.25, 'Pa converted to hPa');
  t.equal(a.co2?.time, '2026-01-15T07:58:00.000Z', 'bt + t');
  const b = await latest('senml-e2e-2', 2);
  t.equal(b.air_temperature?.value, 0, 'kelvin converted');
  t.equal(b.air_temperature?.time, new Date(now * 1000).toISOString());
  t.equal(b.co2?.value, 950);
});

t.test('Sparkplug B: DATA before BIRTH asks a rebirth, BIRTH/DATA/DEATH tracked', async (t) => {
  const watcher = await tp.publisher();
  const ncmd: Buffer[] = [];
  watcher.on('message', (_topic, payload) => ncmd.push(payload));
  await watcher.subscribeAsync(`${P}spBv1.0/e2e/NCMD/edge-gtb`, { qos: 1 });
  const ts = Date.now() - 5000;
  const send = (type: string, payload: Parameters<typeof spb.encodePayload>[0], device?: string) =>
    pub.publishAsync(`${P}spBv1.0/e2e/${type}/edge-gtb${device ? `/${device}` : ''}`, Buffer.from(spb.encodePayload(payload)), { qos: 1 });

  await send('NDATA', { timestamp: ts, seq: 9, metrics: [{ alias: 10, type: 'Float', value: 70 }] });
  const rebirth = await waitFor(() => ncmd[0], 10_000, 'NCMD rebirth request');
  const decoded = spb.decodePayload(rebirth);
  t.equal(decoded.metrics?.[0]?.name, 'Node Control/Rebirth');
  t.equal(decoded.metrics?.[0]?.value, true);

  await send('NBIRTH', {
    timestamp: ts,
    seq: 0,
    metrics: [
      { name: 'bdSeq', type: 'UInt64', value: 1 },
      { name: 'Boiler/Supply Temperature', alias: 10, type: 'Float', value: 68.5 },
      { name: 'Boiler/Running', alias: 11, type: 'Boolean', value: true },
    ],
  });
  await send('DBIRTH', { timestamp: ts, seq: 1, metrics: [{ name: 'Sensors/Temperature', alias: 20, type: 'Double', value: 20.5 }, { name: 'Sensors/CO2', alias: 22, type: 'UInt32', value: 640 }] }, 'salle-101');
  await send('DDATA', { timestamp: ts + 1000, seq: 2, metrics: [{ alias: 20, type: 'Double', value: 21.25 }, { alias: 22, type: 'UInt32', value: 700 }] }, 'salle-101');
  await send('NDATA', { timestamp: ts + 1000, seq: 3, metrics: [{ alias: 10, type: 'Float', value: 69.5 }] });
  const node = await latest('e2e:edge-gtb', 2);
  t.equal(node.boiler_state?.value, 1);
  await waitFor(async () => (await latest('e2e:edge-gtb', 2)).supply_temperature?.value === 69.5, 10_000, 'NDATA by alias');
  const dev = await waitFor(async () => {
    const v = await latest('e2e:edge-gtb:salle-101', 2);
    return v.air_temperature?.value === 21.25 ? v : undefined;
  });
  t.equal(dev.co2?.value, 700, 'DDATA aliases resolved from the DBIRTH');
  t.equal((await tp.get<DeviceItem>('/api/v1/devices/e2e:edge-gtb:salle-101')).body.online, true, 'DBIRTH: online');

  await send('DDEATH', { timestamp: ts + 2000, seq: 4, metrics: [] }, 'salle-101');
  const offline = await waitFor(async () => {
    const d = await tp.get<DeviceItem>('/api/v1/devices/e2e:edge-gtb:salle-101');
    return d.body.online === false ? d.body : undefined;
  });
  t.equal(offline.statusReason, 'DDEATH');
  await send('NDEATH', { timestamp: ts + 3000, metrics: [{ name: 'bdSeq', type: 'UInt64', value: 1 }] });
  const nodeOff = await waitFor(async () => {
    const d = await tp.get<DeviceItem>('/api/v1/devices/e2e:edge-gtb');
    return d.body.online === false ? d.body : undefined;
  });
  t.equal(nodeOff.statusReason, 'NDEATH');
  const seqDead = await tp.get<Page<Dead>>('/api/v1/dead-letters?decoder=sparkplug-b&code=sequence_error');
  t.ok(seqDead.body.items.some((d) => d.topic === 'spBv1.0/e2e/NDATA/edge-gtb'), 'DATA before BIRTH is recorded');
});

t.test('Sparkplug B 3.0: DATA without datatype stored with the BIRTH types and per-device units; an unfilled gap ends in a rebirth', async (t) => {
  // Eclipse Sparkplug 3.0.0 §6.4.6: the datatype SHOULD NOT be in NDATA/DDATA
  // (tck-id-payloads-metric-datatype-not-req); Tahu's encodePayload always writes one, so
  // DATA messages are built with the protobuf schema it ships.
  const Proto = protoModule.org.eclipse.tahu.protobuf.Payload;
  const watcher = await tp.publisher();
  const ncmd: Buffer[] = [];
  watcher.on('message', (_topic, payload) => ncmd.push(payload));
  await watcher.subscribeAsync(`${P}spBv1.0/e2e/NCMD/edge-gtb-30`, { qos: 1 });
  const ts = Date.now() - 5000;
  const topic = (type: string, device?: string) => `${P}spBv1.0/e2e/${type}/edge-gtb-30${device ? `/${device}` : ''}`;
  const birth = (type: string, payload: Parameters<typeof spb.encodePayload>[0], device?: string) => pub.publishAsync(topic(type, device), Buffer.from(spb.encodePayload(payload)), { qos: 0 });
  const data = (type: string, seq: number, metrics: object[], device?: string) =>
    pub.publishAsync(topic(type, device), Buffer.from(Proto.encode(Proto.create({ timestamp: ts + 1000, seq, metrics })).finish()), { qos: 0 });
  const unit = (u: string) => ({ engUnit: { type: 'String' as const, value: u } });

  await birth('NBIRTH', { timestamp: ts, seq: 0, metrics: [{ name: 'bdSeq', type: 'Int64', value: 2 }, { name: 'Node Control/Rebirth', type: 'Boolean', value: false }, { name: 'Boiler/Supply Temperature', alias: 10, type: 'Float', value: 68.5 }] });
  await birth('DBIRTH', { timestamp: ts, seq: 1, metrics: [{ name: 'Sensors/Temperature', alias: 20, type: 'Double', value: 68, properties: unit('degF') }] }, 'salle-102');
  await birth('DBIRTH', { timestamp: ts, seq: 2, metrics: [{ name: 'Sensors/Temperature', alias: 21, type: 'Double', value: 19, properties: unit('°C') }] }, 'salle-103');
  await data('NDATA', 3, [{ alias: 10, timestamp: ts + 1000, floatValue: 70.5 }]);
  await data('DDATA', 4, [{ alias: 20, timestamp: ts + 1000, doubleValue: 69.8 }], 'salle-102');
  await data('DDATA', 5, [{ alias: 21, timestamp: ts + 1000, doubleValue: 19.5 }], 'salle-103');
  await waitFor(async () => (await latest('e2e:edge-gtb-30', 1)).supply_temperature?.value === 70.5, 15_000, 'NDATA value without datatype');
  const a = await waitFor(async () => (await latest('e2e:edge-gtb-30:salle-102', 1)).air_temperature?.time === new Date(ts + 1000).toISOString() && (await latest('e2e:edge-gtb-30:salle-102', 1)));
  t.equal(a.air_temperature?.value, 21, 'salle-102 keeps its degF: 69.8 °F = 21 °C');
  const b = await waitFor(async () => (await latest('e2e:edge-gtb-30:salle-103', 1)).air_temperature?.time === new Date(ts + 1000).toISOString() && (await latest('e2e:edge-gtb-30:salle-103', 1)));
  t.equal(b.air_temperature?.value, 19.5, 'salle-103 keeps its °C');
  t.equal(ncmd.length, 0, 'no rebirth so far');

  // seq 6 never comes; the node falls silent after seq 7: the reorder timer asks the rebirth.
  await data('NDATA', 7, [{ alias: 10, timestamp: ts + 2000, floatValue: 71 }]);
  await waitFor(async () => (await latest('e2e:edge-gtb-30', 1)).supply_temperature?.value === 71, 15_000, 'the message after the gap is stored at once');
  const rebirth = await waitFor(() => ncmd[0], 10_000, 'NCMD rebirth after the reorder timeout');
  t.match(spb.decodePayload(rebirth).metrics, [{ name: 'Node Control/Rebirth', value: true }]);
  const dead = await waitFor(async () => {
    const r = await tp.get<Page<Dead>>('/api/v1/dead-letters?decoder=sparkplug-b&code=sequence_error&device=e2e:edge-gtb-30');
    return r.body.items.find((d) => /seq 6 did not arrive within the reorder timeout \(1500 ms/.test(d.reason));
  }, 10_000, 'sequence_error dead letter of the expired gap');
  t.equal(dead.topic, 'spBv1.0/e2e/NDATA/edge-gtb-30', 'recorded with the message that revealed the gap');
  const metrics = (await tp.platform.app.inject({ method: 'GET', url: '/metrics' })).body;
  t.match(metrics, /vigie_sparkplug_reorder_gaps_total\{outcome="expired"\} [1-9]/, 'the expired gap is counted');
  t.match(metrics, /vigie_sparkplug_metrics_omitted_total\{reason="control"\} [1-9]/, 'bdSeq and Node Control/* are counted, not stored');
});

t.test('NGSI entities over MQTT and Orion notifications over HTTP', async (t) => {
  await pub.publishAsync(`${P}vigie/ngsi`, golden('ngsi', 'traffic-keyvalues'), { qos: 1 });
  const traffic = await latest('tc-rd910-pr40', 4);
  t.equal(traffic['lane1/vehicle_count']?.value, 40);
  t.equal(traffic['lane1/flow']?.value, 400, 'flow from the 6-minute interval');
  t.equal(traffic['lane1/occupancy']?.value, 12, 'fraction to percent');
  t.equal(traffic['lane1/occupancy']?.time, '2026-01-15T08:00:00.000Z', 'time is the end of the interval');

  const res = await tp.platform.app.inject({ method: 'POST', url: '/ngsi/notify', headers: { 'content-type': 'application/ld+json' }, payload: golden('ngsi', 'indoor-ld-notification') });
  t.equal(res.statusCode, 200);
  t.same(res.json(), { observations: 4, deadLetters: 0 });
  const indoor = await latest('clg-cclaudel-s204', 4);
  t.equal(indoor.relative_humidity?.value, 45);
  t.equal(indoor.air_temperature?.time, '2026-01-15T08:00:00.000Z', 'zoneless dateObserved read as UTC (the models\' "ISO8601 UTC format")');

  const v2 = await tp.platform.app.inject({ method: 'POST', url: '/ngsi/notify', headers: { 'content-type': 'application/json' }, payload: golden('ngsi', 'orion-v2-http-heavy') });
  t.same(v2.json(), { observations: 4, deadLetters: 1 }, 'lorry class count and heavy count, all-vehicle count and flow; speed -1 is missing; occupancy 35 is no fraction');
  const dead = await tp.get<Page<Dead>>('/api/v1/dead-letters?topic=http/ngsi/notify&device=tc-rd951-pr5');
  t.same(dead.body.items.map((d) => [d.code, d.field]), [['out_of_range', 'data[1].occupancy']]);
  const two = await tp.platform.app.inject({
    method: 'POST',
    url: '/ngsi/notify',
    headers: { 'content-type': 'application/json' },
    payload: {
      subscriptionId: 's2',
      data: [
        { id: 'urn:ngsi-ld:WeatherObserved:ngsi-ws-a', type: 'WeatherObserved', dateObserved: new Date(Date.now() - 60_000).toISOString(), temperature: 4.5 },
        { id: 'urn:ngsi-ld:WeatherObserved:ngsi-ws-b', type: 'WeatherObserved', dateObserved: new Date(Date.now() - 60_000).toISOString(), temperature: 5.5 },
      ],
    },
  });
  t.same(two.json(), { observations: 2, deadLetters: 0 });
  for (const id of ['ngsi-ws-a', 'ngsi-ws-b']) {
    const d = await tp.get<{ lastSeen: string | null }>(`/api/v1/devices/${id}`);
    t.ok(d.status === 200 && d.body.lastSeen, `${id}: every device of a notification is listed and heard from`);
  }
  const bad = await tp.platform.app.inject({ method: 'POST', url: '/ngsi/notify', headers: { 'content-type': 'application/json' }, payload: '{"subscriptionId": "x", "data": [' });
  t.equal(bad.statusCode, 200, 'a malformed notification is dead-lettered, not refused');
  t.same(bad.json(), { observations: 0, deadLetters: 1 });
});

t.test('a configured route (VIGIE_ROUTES) feeds a bridged topic to a decoder', async (t) => {
  await pub.publishAsync(`${P}bridge/lns/site-nord/uplinks`, golden('ttn-v3', 'default-profile-unregistered'), { qos: 1 });
  const v = await latest('eui-70b3d57ed005a1c4', 5);
  t.equal(v.co2?.value, 650, 'device id taken from end_device_ids');
});

t.test('profiles are listed', async (t) => {
  const r = await tp.get<{ items: Array<{ name: string }> }>('/api/v1/profiles');
  t.same(r.body.items.map((p) => p.name).sort(), ['default', 'gtb-edge-sparkplug', 'indoor-co2-ths', 'pulse-energy-meter', 'road-surface']);
});
