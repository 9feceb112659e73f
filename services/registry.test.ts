import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadRegistry } from './registry.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigie-reg-'));
const write = (name: string, text: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
};

t.test('the demo registry is valid', async (t) => {
  const r = loadRegistry(path.resolve('infra/demo/devices.yaml'));
  t.ok(r.devices.length >= 10);
  t.equal(r.get('rws-rd910-pr42')?.road?.route, 'RD910');
});

t.test('YAML and JSON registries with defaults applied', async (t) => {
  const y = loadRegistry(write('a.yaml', 'devices:\n  - { id: s1, kind: building-sensor, domain: buildings, building: { building: b1 } }\n'));
  t.same(y.get('s1')?.tags, {}, 'tags default to empty');
  const j = loadRegistry(write('a.json', JSON.stringify({ devices: [{ id: 'r1', kind: 'traffic-counter', domain: 'roads', road: { route: 'RD1', pr: 3 } }] })));
  t.equal(j.get('r1')?.road?.direction, 'both');
});

t.test('errors name the file and the field', async (t) => {
  t.throws(() => loadRegistry(write('b.yaml', 'devices:\n  - { id: s1, kind: spaceship, domain: roads }\n')), /b\.yaml: devices\.0\.kind/);
  t.throws(() => loadRegistry(write('c.yaml', 'devices:\n  - { id: s1, kind: meter, domain: buildings }\n  - { id: s1, kind: meter, domain: buildings }\n')), /duplicate device id s1/);
  t.throws(() => loadRegistry(path.join(dir, 'nope.yaml')), /cannot read/);
});

t.test('gateways: broker accounts with scopes, ids distinct from devices', async (t) => {
  const demo = loadRegistry(path.resolve('infra/demo/devices.yaml'));
  t.same(demo.gateway('gtb-jmoulin')?.sparkplug, ['clg-jmoulin/gtb-edge']);
  t.same(demo.gateway('tts-86')?.chirpstack, [], 'scopes default to empty');
  const device = '  - { id: s1, kind: meter, domain: buildings }\n';
  t.throws(() => loadRegistry(write('g1.yaml', `devices:\n${device}gateways:\n  - { id: s1, ngsi: true }\n`)), /gateway id s1 is already a device or gateway id/);
  t.throws(() => loadRegistry(write('g2.yaml', `devices:\n${device}gateways:\n  - { id: gw }\n`)), /needs at least one of tts, chirpstack, sparkplug, ngsi/);
  t.throws(() => loadRegistry(write('g3.yaml', `devices:\n${device}gateways:\n  - { id: gw, sparkplug: [just-a-node] }\n`)), /group\/node/);
  t.throws(() => loadRegistry(write('g4.yaml', `devices:\n${device}gateways:\n  - { id: "gw:1", ngsi: true }\n`)), /gateways\.0\.id/);
});
