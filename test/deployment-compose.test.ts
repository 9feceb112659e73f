/**
 * infra/compose/compose.yaml against the Compose Specification's JSON schema
 * (test/fixtures/schemas/compose-spec.json), and what the schema cannot see: Mosquitto runs the
 * shipped configuration as `vigie mosquitto-config` writes it, with a broker account per Vigie
 * process; two ingest processes share a subscription; every Vigie setting exists in
 * services/config.ts; credentials come from Compose secrets; bind-mounted files exist; Grafana
 * is provisioned; InfluxDB is optional.
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
  services: Record<string, { image?: string; environment?: Record<string, string>; volumes?: string[]; secrets?: Array<string | { source: string; target?: string }>; profiles?: string[]; depends_on?: Record<string, unknown>; command?: string[] }>;
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

/** The long-running Vigie processes. */
const vigie = Object.entries(services).filter(([, s]) => s.environment?.VIGIE_ROLE);
const secretSource = (x: string | { source: string }) => (typeof x === 'string' ? x : x.source);
const configSecret = (s: (typeof services)[string]) => s.secrets?.find((x): x is { source: string; target: string } => typeof x !== 'string' && x.target === 'vigie_config')?.source;

t.test('Vigie services', async (t) => {
  // VIGIE_CONFIG names the settings file itself (services/config.ts, loadConfig).
  const known = new Set([...Object.keys(configSchema.shape), 'VIGIE_CONFIG']);
  const generator = readFileSync(path.join(composeDir, 'secrets', 'generate.sh'), 'utf8');
  for (const k of ['DATABASE_URL', 'MQTT_USERNAME', 'MQTT_PASSWORD', 'VIGIE_ADMIN_TOKEN']) t.match(generator, new RegExp(`^${k}: `, 'm'), `generate.sh writes ${k} into the settings files`);
  t.ok(vigie.length >= 3, 'three Vigie processes');
  const accounts: string[] = [];
  for (const [name, s] of vigie) {
    for (const key of Object.keys(s.environment ?? {})) t.ok(known.has(key) || PLANNED.has(key), `${name}: ${key} is a Vigie setting`);
    t.equal(s.environment?.VIGIE_CONFIG, '/run/secrets/vigie_config', `${name}: credentials from its settings secret`);
    t.notOk(s.environment?.DATABASE_URL ?? s.environment?.MQTT_PASSWORD ?? s.environment?.MQTT_USERNAME, `${name}: no credential in the environment`);
    t.equal(s.environment?.VIGIE_MQTT_SHARED_GROUP, 'vigie-ingest', `${name}: in the shared subscription group`);
    const source = configSecret(s);
    const file = source && compose.secrets[source]?.file;
    const account = file && new RegExp(`^settings ${path.basename(file).replace(/\./g, '\\.')} (\\S+) `, 'm').exec(generator)?.[1];
    t.ok(account, `${name}: its settings file (${file}) is generated with a broker account`);
    t.equal(s.environment?.VIGIE_MQTT_CLIENT_ID, account, `${name}: client id = account (use_username_as_clientid)`);
    accounts.push(account ?? '');
  }
  t.equal(new Set(accounts).size, accounts.length, 'one broker account per process');
  const ingest = vigie.filter(([, s]) => s.environment?.VIGIE_ROLE === 'ingest');
  t.equal(ingest.length, 2, 'two ingest processes');
  t.equal(vigie.filter(([, s]) => s.environment?.VIGIE_ALERTING === 'true').length, 1, 'one alerting engine');
  // Mosquitto knows every account: Vigie's own from mosquitto-config, the others added.
  const setup = services['vigie-setup']!;
  t.match(setup.command?.join('\n') ?? '', /vigie\.js mosquitto-config --out /, 'vigie-setup writes the broker files with vigie mosquitto-config');
  const mainAccount = accounts[vigie.findIndex(([, s]) => configSecret(s) === configSecret(setup))];
  t.ok(mainAccount, 'vigie-setup runs with the settings (hence the broker account) of a Vigie process');
  const added = services['mosquitto-accounts']?.command?.join('\n') ?? '';
  for (const a of accounts.filter((a) => a !== mainAccount)) {
    const [prefix, n] = [a.replace(/\d+$/, ''), /\d+$/.exec(a)?.[0]];
    t.ok(added.includes(`mosquitto_passwd -b /auth/passwd "${prefix}$$n"`) && /for n in [\d ]+;/.exec(added)?.[0].includes(n!), `${a}: added to the password file`);
  }
  t.match(added, /topic readwrite #/, 'the added accounts get Vigie\'s ACL');
});

t.test('services, mounts and secrets', async (t) => {
  for (const [name, s] of Object.entries(services)) {
    for (const sec of (s.secrets ?? []).map(secretSource)) t.ok(compose.secrets[sec], `${name}: secret ${sec} is defined`);
    for (const dep of Object.keys(s.depends_on ?? {})) t.ok(services[dep], `${name}: depends on ${dep}, which exists`);
    for (const v of s.volumes ?? []) {
      const source = v.split(':')[0]!;
      if (source.startsWith('.')) t.ok(existsSync(path.resolve(composeDir, source)), `${name}: ${source} exists`);
      else t.ok(source in compose.volumes, `${name}: volume ${source} is declared`);
    }
  }
  for (const [name, sec] of Object.entries(compose.secrets)) t.match(sec.file, /^\.\/secrets\//, `${name} lives in secrets/ (git-ignored)`);
  t.same(services.mosquitto?.command, ['mosquitto', '-c', '/etc/mosquitto/vigie/mosquitto.conf'], 'Mosquitto runs the configuration mosquitto-config derives from the shipped one');
  t.ok(existsSync(path.join(root, 'infra/mosquitto/vigie.conf')), 'the shipped configuration exists (mosquitto-config template)');
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
