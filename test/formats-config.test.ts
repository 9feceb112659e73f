/** Wire-format settings: topic routes, profiles folder, per-format options. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { DEFAULT_ROUTES, parseRoutes } from '../ingest/default-routes.ts';
import { routeFor } from '../ingest/topic-routes.ts';
import { loadConfig } from '../services/config.ts';
import { loadProfiles } from '../services/formats/profiles.ts';

t.test('default routes cover every format standard topic', async (t) => {
  const cases: Record<string, string> = {
    'vigie/a/telemetry': 'native',
    'vigie/a/senml': 'senml',
    'vigie/ngsi': 'ngsi',
    'http/ngsi/notify': 'ngsi',
    'v3/app@tenant/devices/dev-1/up': 'ttn-v3',
    'application/1/device/0011/event/up': 'chirpstack-v4',
    'application/1/device/0011/event/status': 'chirpstack-v4',
    'spBv1.0/g/NBIRTH/n': 'sparkplug-b',
    'spBv1.0/g/DDATA/n/d': 'sparkplug-b',
  };
  for (const [topic, decoder] of Object.entries(cases)) t.equal(routeFor(DEFAULT_ROUTES, topic)?.decoder, decoder, topic);
  t.equal(routeFor(DEFAULT_ROUTES, 'spBv1.0/g/NCMD/n'), undefined, 'NCMD (our own rebirth requests) is not subscribed');
  t.equal(routeFor(DEFAULT_ROUTES, 'application/1/device/0011/event/join'), undefined);
  t.equal(DEFAULT_ROUTES.find((r) => r.filter === 'http/ngsi/notify')?.source, 'http', 'the HTTP intake is never an MQTT subscription');
});

t.test('VIGIE_ROUTES come first; VIGIE_DEFAULT_ROUTES=false drops the defaults', async (t) => {
  const c = loadConfig({ VIGIE_ROUTES: 'bridge/lora/#=ttn-v3, site2/+/senml = senml' });
  t.same(c.formats.routes.slice(0, 2), [
    { filter: 'bridge/lora/#', decoder: 'ttn-v3' },
    { filter: 'site2/+/senml', decoder: 'senml' },
  ]);
  t.equal(c.formats.routes.length, 2 + DEFAULT_ROUTES.length);
  t.same(loadConfig({ VIGIE_ROUTES: 'x/#=native', VIGIE_DEFAULT_ROUTES: 'false' }).formats.routes, [{ filter: 'x/#', decoder: 'native' }]);
  t.throws(() => loadConfig({ VIGIE_ROUTES: 'no-decoder' }), { code: 'VIGIE_ERR_CONFIG', message: /is not filter=decoder/ });
  t.throws(() => loadConfig({ VIGIE_ROUTES: 'a/#/b=native' }), /# must be the last level/);
  t.type(parseRoutes(''), Array);
  t.throws(() => loadConfig({ VIGIE_NGSI_LOCAL_ZONE: 'Mars/Olympus' }), /unknown time zone/);
  const d = loadConfig({});
  t.same(d.formats.decoderOptions, {
    'ttn-v3': { deviceId: 'device_id' },
    'chirpstack-v4': { deviceId: 'devEui' },
    'sparkplug-b': { rebirthMinIntervalMs: 10_000, reorderTimeoutMs: 2_000 },
    ngsi: { localZone: 'UTC' },
  });
});

t.test('profiles: built-in ones load; a folder adds and replaces; bad files are named', async (t) => {
  const builtin = loadProfiles();
  t.same([...builtin.keys()].sort(), ['default', 'gtb-edge-sparkplug', 'indoor-co2-ths', 'pulse-energy-meter', 'road-surface']);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigie-profiles-'));
  writeFileSync(path.join(dir, 'vendor.yaml'), 'name: vendor-x\nkeys:\n  TempC: { metric: air_temperature }\n');
  writeFileSync(path.join(dir, 'default.yaml'), 'name: default\nkeys:\n  t: { metric: air_temperature }\n');
  const merged = loadProfiles(dir);
  t.ok(merged.get('vendor-x')?.keys.TempC);
  t.same(Object.keys(merged.get('default')!.keys), ['t'], 'a folder profile replaces the built-in one of the same name');
  writeFileSync(path.join(dir, 'broken.yaml'), 'name: broken\nkeys:\n  x: { metric: not_a_metric }\n');
  t.throws(() => loadProfiles(dir), /broken\.yaml: keys\.x\.metric/);
});
