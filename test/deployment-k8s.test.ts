/**
 * infra/k8s (kustomize): every object against the Kubernetes 1.32 JSON schemas in their strict
 * form (unknown fields refused; test/fixtures/schemas/kubernetes-v1.32.2), the kustomization's
 * references resolve, and the wiring the schemas cannot see: selectors match pod labels, the
 * ConfigMaps and Secret the pods read exist, every environment variable is a Vigie setting,
 * probes on /health and /ready, resource requests on every container, a singleton worker, the
 * migration Job running `vigie migrate`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { configSchema } from '../services/config.ts';
import { errorsOf, schemaValidator } from './helpers/json-schema.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(root, 'infra', 'k8s');
const kustomization = parseAllDocuments(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8'))[0]!.toJS() as {
  resources: string[];
  configMapGenerator?: Array<{ name: string; files?: string[] }>;
  images?: Array<{ name: string }>;
};

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  // Checked by the schemas above; the wiring test only reads known paths.
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

const SCHEMAS: Record<string, string> = {
  'apps/v1/Deployment': 'deployment-apps-v1.json',
  'apps/v1/StatefulSet': 'statefulset-apps-v1.json',
  'batch/v1/Job': 'job-batch-v1.json',
  'policy/v1/PodDisruptionBudget': 'poddisruptionbudget-policy-v1.json',
  'v1/Secret': 'secret-v1.json',
  'v1/ConfigMap': 'configmap-v1.json',
  'v1/Service': 'service-v1.json',
};
const PLANNED = new Set(['VIGIE_ROLE']);
/** Kubernetes dependent environment variables ($(NAME) in later values), not Vigie settings. */
const POD_VARIABLES = new Set(['POD_NAME']);

t.test('the kustomization references resolve', async (t) => {
  for (const r of kustomization.resources) t.ok(existsSync(path.join(dir, r)), `resource ${r}`);
  for (const g of kustomization.configMapGenerator ?? []) {
    for (const f of g.files ?? []) t.ok(existsSync(path.join(dir, f.split('=').at(-1)!)), `${g.name}: ${f}`);
  }
});

const objects: K8sObject[] = kustomization.resources.flatMap((r) =>
  parseAllDocuments(readFileSync(path.join(dir, r), 'utf8')).map((d) => {
    t.same(d.errors, [], `${r} parses`);
    return d.toJS() as K8sObject;
  }),
);
const kinds = (k: string) => objects.filter((o) => o.kind === k);
const workloads = objects.filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind));

t.test('every object is valid against the Kubernetes schemas', async (t) => {
  const cache = new Map<string, ReturnType<typeof schemaValidator>>();
  for (const o of objects) {
    const file = SCHEMAS[`${o.apiVersion}/${o.kind}`];
    if (!t.ok(file, `${o.kind} ${o.metadata.name}: a schema for ${o.apiVersion} ${o.kind}`)) continue;
    if (!cache.has(file!)) cache.set(file!, schemaValidator(`kubernetes-v1.32.2/${file}`));
    const validate = cache.get(file!)!;
    t.ok(validate(o), `${o.kind} ${o.metadata.name}: ${errorsOf(validate).join('; ') || 'valid'}`);
  }
  const deployment = schemaValidator('kubernetes-v1.32.2/deployment-apps-v1.json');
  t.notOk(deployment({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { replicas: 'two', livenesProbe: {} } }), 'a wrong object is refused (strict)');
});

t.test('wiring', async (t) => {
  const configMaps = new Set([...kinds('ConfigMap').map((c) => c.metadata.name), ...(kustomization.configMapGenerator ?? []).map((g) => g.name)]);
  const secrets = new Set(kinds('Secret').map((s) => s.metadata.name));
  // VIGIE_CONFIG names the settings file itself (services/config.ts, loadConfig).
  const known = new Set([...Object.keys(configSchema.shape), 'VIGIE_CONFIG']);
  for (const c of kinds('ConfigMap')) for (const k of Object.keys(c.data ?? {})) t.ok(known.has(k), `ConfigMap ${c.metadata.name}: ${k} is a Vigie setting`);
  const shared = kinds('Secret').find((s) => s.metadata.name === 'vigie-secrets');
  for (const k of Object.keys(shared?.stringData ?? {})) t.ok(known.has(k), `Secret vigie-secrets: ${k} is a Vigie setting`);
  t.ok(['DATABASE_URL', 'VIGIE_ADMIN_TOKEN'].every((k) => k in (shared?.stringData ?? {})), 'shared credentials in vigie-secrets');
  t.notOk('MQTT_USERNAME' in (shared?.stringData ?? {}), 'no shared broker account (the environment would override every process\'s own)');
  const accountFiles = new Map(
    Object.entries(kinds('Secret').find((s) => s.metadata.name === 'vigie-broker-accounts')?.stringData ?? {}).map(([file, text]) => [file, parseAllDocuments(text)[0]!.toJS() as Record<string, string>]),
  );
  for (const [file, settings] of accountFiles) for (const k of Object.keys(settings)) t.ok(known.has(k), `vigie-broker-accounts/${file}: ${k} is a Vigie setting`);
  const usedAccounts: string[] = [];
  for (const w of workloads) {
    const pod = w.spec.template;
    const labels = pod.metadata.labels as Record<string, string>;
    if (w.kind !== 'Job') {
      for (const [k, v] of Object.entries(w.spec.selector.matchLabels)) t.equal(labels[k], v, `${w.kind} ${w.metadata.name}: selector ${k} matches the pod`);
    }
    for (const c of pod.spec.containers) {
      const where = `${w.kind} ${w.metadata.name}/${c.name}`;
      t.equal(c.image, 'vigie', `${where}: the image kustomize sets`);
      t.ok(c.resources?.requests?.cpu && c.resources?.requests?.memory && c.resources?.limits?.memory, `${where}: requests and a memory limit`);
      for (const e of c.envFrom ?? []) {
        if (e.configMapRef) t.ok(configMaps.has(e.configMapRef.name), `${where}: ConfigMap ${e.configMapRef.name} exists`);
        if (e.secretRef) t.ok(secrets.has(e.secretRef.name), `${where}: Secret ${e.secretRef.name} exists`);
      }
      for (const e of c.env ?? []) t.ok(known.has(e.name) || PLANNED.has(e.name) || POD_VARIABLES.has(e.name), `${where}: ${e.name} is a Vigie setting`);
      t.equal(c.securityContext?.allowPrivilegeEscalation, false, `${where}: no privilege escalation`);
      if (w.kind !== 'Job') {
        t.equal(c.livenessProbe?.httpGet?.path, '/health', `${where}: liveness on /health`);
        t.equal(c.readinessProbe?.httpGet?.path, '/ready', `${where}: readiness on /ready`);
        t.same(c.args, ['start'], `${where}: vigie start`);
        // One broker account per process (use_username_as_clientid): each pod's settings file
        // names an account of its own, and the client id repeats it.
        const env = Object.fromEntries((c.env ?? []).map((e: { name: string; value?: string }) => [e.name, e.value]));
        const podNames = w.kind === 'StatefulSet' ? Array.from({ length: w.spec.replicas }, (_, i) => `${w.metadata.name}-${i}`) : [undefined];
        t.ok(w.kind === 'StatefulSet' || w.spec.replicas === 1, `${where}: a Deployment only for a singleton (fixed account)`);
        for (const pod of podNames) {
          const subst = (v?: string) => (pod ? v?.replace('$(POD_NAME)', pod) : v);
          const file = subst(env.VIGIE_CONFIG)?.replace('/etc/vigie/accounts/', '');
          const settings = file ? accountFiles.get(file) : undefined;
          t.ok(settings?.MQTT_USERNAME && settings.MQTT_PASSWORD, `${where} ${pod ?? ''}: broker account file ${file}`);
          t.equal(subst(env.VIGIE_MQTT_CLIENT_ID), settings?.MQTT_USERNAME, `${where} ${pod ?? ''}: client id = account`);
          t.ok((settings?.MQTT_USERNAME ?? '').length <= 23, `${where} ${pod ?? ''}: fits VIGIE_MQTT_CLIENT_ID (max 23)`);
          if (settings?.MQTT_USERNAME) usedAccounts.push(settings.MQTT_USERNAME);
        }
      } else {
        t.same(c.args, ['migrate'], `${where}: vigie migrate`);
      }
    }
    for (const v of pod.spec.volumes ?? []) if (v.configMap) t.ok(configMaps.has(v.configMap.name), `${w.metadata.name}: volume ConfigMap ${v.configMap.name} exists`);
    t.equal(pod.spec.securityContext?.runAsNonRoot, true, `${w.metadata.name}: non-root`);
  }
  t.equal(new Set(usedAccounts).size, usedAccounts.length, 'no two processes share a broker account');
  for (const v of [...new Set(workloads.flatMap((w) => (w.spec.template.spec.volumes ?? []).filter((x: { secret?: unknown }) => x.secret).map((x: { secret: { secretName: string } }) => x.secret.secretName)))]) t.ok(secrets.has(v), `Secret volume ${v} exists`);
  for (const pdb of kinds('PodDisruptionBudget')) {
    const sel = pdb.spec.selector.matchLabels as Record<string, string>;
    const hit = workloads.filter((w) => w.kind !== 'Job' && Object.entries(sel).every(([k, v]) => w.spec.template.metadata.labels[k] === v));
    t.equal(hit.length, 1, `PDB ${pdb.metadata.name} covers one workload`);
    t.ok(hit[0] && hit[0].spec.replicas > 1, `PDB ${pdb.metadata.name}: on a replicated workload`);
  }
  for (const svc of kinds('Service')) {
    const sel = svc.spec.selector as Record<string, string>;
    t.ok(workloads.some((w) => Object.entries(sel).every(([k, v]) => w.spec.template.metadata.labels[k] === v)), `Service ${svc.metadata.name} selects pods`);
  }
  const role = (r: string) => workloads.filter((w) => w.spec.template.spec.containers[0].env?.some((e: { name: string; value?: string }) => e.name === 'VIGIE_ROLE' && e.value === r));
  t.ok(role('ingest')[0]?.spec.replicas >= 2, 'ingest scaled horizontally');
  t.ok(role('api')[0]?.spec.replicas >= 2, 'API scaled horizontally');
  const worker = role('worker')[0];
  t.equal(worker?.spec.replicas, 1, 'one worker');
  t.equal(worker?.spec.strategy?.type, 'Recreate', 'the worker is never two');
  t.equal(kinds('Job').length, 1, 'a migration Job');
});
