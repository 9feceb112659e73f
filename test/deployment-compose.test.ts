/**
 * infra/compose/compose.yaml against the Compose Specification's JSON schema
 * (test/fixtures/schemas/compose-spec.json), and what the schema cannot see: the shipped
 * Mosquitto configuration and Grafana provisioning are mounted, two ingest processes share a
 * subscription with distinct client ids, every Vigie setting exists in services/config.ts,
 * secrets come from Compose secrets, bind-mounted files exist, InfluxDB is optional.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parse } from 'yaml';
import { configSchema } from '../services/config.ts';
import { errorsOf, schemaValidator } from './helpers/json-schema.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const composeDir = path.join(root, 'infra', 'compose');
const compose = parse(readFileSync(path.join(composeDir, 'compose.yaml'), 'utf8'), { merge: true }) as {
  services: Record<string, { image?: string; environment?: Record<string, string>; volumes?: string[]; secrets?: string[]; profiles?: string[]; depends_on?: Record<string, unknown>; command?: string[] }>;
  secrets: Record<string, { file: string }>;
  volumes: Record<string, unknown>;
};
const services = compose.services;
/** Settings the platform does not read yet: `vigie start --role` is planned (docs/deployment.md). */
const PLANNED = new Set(['VIGIE_ROLE']);

t.test('valid against the Compose Specification schema', async (t) => {
  const validate = schemaValidator('compose-spec.json');
  t.ok(validate(compose), errorsOf(validate).join('\n') || 'valid');
  // The validator is not vacuous.
  t.notOk(validate({ services: { x: { image: 1, restart: 'sometimes' } } }), 'a wrong file is refused');
});

const vigie = Object.entries(services).filter(([, s]) => s.image?.includes('vigie') && !s.profiles);

t.test('Vigie services', async (t) => {
  // VIGIE_CONFIG names the settings file itself (services/config.ts, loadConfig).
  const known = new Set([...Object.keys(configSchema.shape), 'VIGIE_CONFIG']);
  t.ok(vigie.length >= 3, 'three Vigie processes');
  for (const [name, s] of vigie) {
    for (const key of Object.keys(s.environment ?? {})) t.ok(known.has(key) || PLANNED.has(key), `${name}: ${key} is a Vigie setting`);
    t.equal(s.environment?.VIGIE_CONFIG, '/run/secrets/vigie_config', `${name}: credentials from the vigie_config secret`);
    t.ok(s.secrets?.includes('vigie_config'), `${name}: mounts the secret`);
    t.notOk(s.environment?.DATABASE_URL ?? s.environment?.MQTT_PASSWORD, `${name}: no credential in the environment`);
    t.equal(s.environment?.VIGIE_MQTT_SHARED_GROUP, 'vigie-ingest', `${name}: in the shared subscription group`);
  }
  const ingest = vigie.filter(([, s]) => s.environment?.VIGIE_ROLE === 'ingest');
  t.equal(ingest.length, 2, 'two ingest processes');
  const ids = vigie.map(([, s]) => s.environment?.VIGIE_MQTT_CLIENT_ID);
  t.equal(new Set(ids).size, ids.length, 'distinct MQTT client ids');
  for (const id of ids) t.ok(id && id.length <= 23, `${id}: a valid client id`);
  t.equal(vigie.filter(([, s]) => s.environment?.VIGIE_ALERTING === 'true').length, 1, 'one alerting engine');
  const secretKeys = ['DATABASE_URL', 'MQTT_USERNAME', 'MQTT_PASSWORD', 'VIGIE_ADMIN_TOKEN'];
  const generator = readFileSync(path.join(composeDir, 'secrets', 'generate.sh'), 'utf8');
  for (const k of secretKeys) t.match(generator, new RegExp(`^${k}: `, 'm'), `generate.sh writes ${k} into vigie.yaml`);
});

t.test('services, mounts and secrets', async (t) => {
  for (const [name, s] of Object.entries(services)) {
    for (const sec of s.secrets ?? []) t.ok(compose.secrets[sec], `${name}: secret ${sec} is defined`);
    for (const dep of Object.keys(s.depends_on ?? {})) t.ok(services[dep], `${name}: depends on ${dep}, which exists`);
    for (const v of s.volumes ?? []) {
      const source = v.split(':')[0]!;
      if (source.startsWith('.')) t.ok(existsSync(path.resolve(composeDir, source)), `${name}: ${source} exists`);
      else t.ok(source in compose.volumes, `${name}: volume ${source} is declared`);
    }
  }
  for (const [name, sec] of Object.entries(compose.secrets)) t.match(sec.file, /^\.\/secrets\//, `${name} lives in secrets/ (git-ignored)`);
  t.ok(services.mosquitto?.volumes?.some((v) => v.startsWith('../mosquitto/vigie.conf:')), 'Mosquitto runs the shipped configuration');
  t.ok(services.mosquitto?.volumes?.some((v) => v.endsWith(':/var/lib/mosquitto')), 'Mosquitto persistence on a volume');
  t.ok(services.grafana?.volumes?.some((v) => v.startsWith('../grafana/provisioning:')), 'Grafana provisioning');
  t.ok(services.grafana?.volumes?.some((v) => v.startsWith('../../dashboards:/var/lib/vigie/dashboards')), 'Grafana dashboards');
  t.match(services.timescaledb?.image ?? '', /^timescale\/timescaledb:/, 'TimescaleDB');
  t.same(services.influxdb?.profiles, ['influx'], 'InfluxDB is optional (profile influx)');
});

t.test('Grafana provisioning matches the dashboards', async (t) => {
  const ds = parse(readFileSync(path.join(root, 'infra/grafana/provisioning/datasources/vigie.yaml'), 'utf8')) as { datasources: Array<{ uid: string; type: string; jsonData?: { timescaledb?: boolean } }> };
  const uids = new Map(ds.datasources.map((d) => [d.uid, d.type]));
  t.same([...uids.values()].sort(), ['grafana-postgresql-datasource', 'influxdb', 'prometheus']);
  t.equal(ds.datasources.find((d) => d.uid === 'vigie-pg')?.jsonData?.timescaledb, false, 'TimescaleDB macros off (dashboards/src/tiered.ts)');
  const used = new Set<string>();
  const walk = (o: unknown): void => {
    if (Array.isArray(o)) o.forEach(walk);
    else if (o && typeof o === 'object') {
      const r = o as Record<string, unknown>;
      if (r.datasource && typeof r.datasource === 'object') used.add(`${(r.datasource as { uid: string }).uid}|${(r.datasource as { type: string }).type}`);
      Object.values(r).forEach(walk);
    }
  };
  for (const f of ['vigie-road-weather.json', 'vigie-traffic.json', 'vigie-buildings.json', 'vigie-alerts.json']) walk(JSON.parse(readFileSync(path.join(root, 'dashboards', f), 'utf8')));
  for (const u of used) {
    const [uid, type] = u.split('|');
    t.equal(uids.get(uid!), type, `dashboards' datasource ${uid} is provisioned with type ${type}`);
  }
});
