import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from './config.ts';

t.test('defaults are documented values', async (t) => {
  const c = loadConfig({});
  t.equal(c.databaseUrl, undefined, 'no DATABASE_URL: embedded PostgreSQL');
  t.equal(c.mqttUrl, undefined, 'no MQTT_URL: embedded broker');
  t.equal(c.http.port, 3000);
  t.equal(c.embedded.mqttPort, 1883);
  t.equal(c.dataDir, path.resolve('./data'));
  t.equal(c.mqtt.clientId, 'vigie-ingest');
  t.equal(c.ingest.maxFutureMs, 300_000);
});

t.test('empty variables count as unset; numbers are coerced', async (t) => {
  const c = loadConfig({ DATABASE_URL: '', VIGIE_HTTP_PORT: '8080' });
  t.equal(c.databaseUrl, undefined);
  t.equal(c.http.port, 8080);
});

t.test('invalid settings are refused with their name', async (t) => {
  t.throws(() => loadConfig({ VIGIE_HTTP_PORT: 'eighty' }), { name: 'Error', message: /VIGIE_HTTP_PORT/ });
  t.throws(() => loadConfig({ DATABASE_URL: 'not a url' }), /DATABASE_URL/);
  t.throws(() => loadConfig({ VIGIE_MQTT_SHARED_GROUP: 'g', VIGIE_MQTT_PROTOCOL: '4' }), { code: 'VIGIE_ERR_CONFIG', message: /needs VIGIE_MQTT_PROTOCOL=5/ });
});

t.test('a config file provides values; the environment wins', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigie-cfg-'));
  const file = path.join(dir, 'vigie.yaml');
  writeFileSync(file, 'VIGIE_HTTP_PORT: 4000\nVIGIE_BATCH_SIZE: 500\n');
  const c = loadConfig({ VIGIE_CONFIG: file, VIGIE_BATCH_SIZE: '700' });
  t.equal(c.http.port, 4000);
  t.equal(c.ingest.batchSize, 700);
  t.throws(() => loadConfig({ VIGIE_CONFIG: path.join(dir, 'missing.yaml') }), /cannot read/);
});

t.test('embedded broker security: auth on by default, loopback only without it', async (t) => {
  const on = loadConfig({});
  t.equal(on.brokerAuth.mode, 'on');
  t.equal(on.brokerAuth.host, undefined, 'decided at start: every interface once a device can log in, else loopback');
  t.equal(on.brokerAuth.tls, undefined);
  t.throws(() => loadConfig({ VIGIE_MQTT_AUTH: 'off', VIGIE_MQTT_HOST: '0.0.0.0' }), { code: 'VIGIE_ERR_CONFIG', message: /VIGIE_MQTT_HOST.*loopback/ });
  t.throws(() => loadConfig({ VIGIE_MQTT_AUTH: 'off', VIGIE_MQTT_TLS_HOST: '0.0.0.0', VIGIE_MQTT_TLS_CERT: 'a.pem', VIGIE_MQTT_TLS_KEY: 'a.key' }), /VIGIE_MQTT_TLS_HOST.*loopback/);
  t.equal(loadConfig({ VIGIE_MQTT_AUTH: 'off', VIGIE_MQTT_HOST: '127.0.0.1' }).brokerAuth.host, '127.0.0.1');
  t.equal(loadConfig({ VIGIE_MQTT_HOST: '192.0.2.10' }).brokerAuth.host, '192.0.2.10');
  t.throws(() => loadConfig({ VIGIE_MQTT_TLS_CERT: 'a.pem' }), /go together/);
  t.throws(() => loadConfig({ VIGIE_MQTT_TLS_CA: 'ca.pem' }), /needs the TLS listener/);
  const tls = loadConfig({ VIGIE_MQTT_TLS_CERT: 'a.pem', VIGIE_MQTT_TLS_KEY: 'a.key' }).brokerAuth.tls;
  t.equal(tls?.port, 8883);
  t.equal(tls?.host, undefined, 'the plain listener address');
});
