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
  const known = new Set(Object.keys(configSchema.shape));
  for (const c of kinds('ConfigMap')) for (const k of Object.keys(c.data ?? {})) t.ok(known.has(k), `ConfigMap ${c.metadata.name}: ${k} is a Vigie setting`);
  for (const s of kinds('Secret')) {
    for (const k of Object.keys(s.stringData ?? {})) t.ok(known.has(k) || k === 'VIGIE_ADMIN_TOKEN', `Secret ${s.metadata.name}: ${k} is a Vigie setting (VIGIE_ADMIN_TOKEN: access control)`);
    t.ok(['DATABASE_URL', 'MQTT_PASSWORD', 'VIGIE_ADMIN_TOKEN'].every((k) => k in (s.stringData ?? {})), 'credentials in the Secret');
  }
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
      for (const e of c.env ?? []) t.ok(known.has(e.name) || PLANNED.has(e.name), `${where}: ${e.name} is a Vigie setting`);
      t.equal(c.securityContext?.allowPrivilegeEscalation, false, `${where}: no privilege escalation`);
      if (w.kind !== 'Job') {
        t.equal(c.livenessProbe?.httpGet?.path, '/health', `${where}: liveness on /health`);
        t.equal(c.readinessProbe?.httpGet?.path, '/ready', `${where}: readiness on /ready`);
        t.same(c.args, ['start'], `${where}: vigie start`);
        const clientId = (c.env ?? []).find((e: { name: string }) => e.name === 'VIGIE_MQTT_CLIENT_ID');
        t.equal(clientId?.valueFrom?.fieldRef?.fieldPath, 'metadata.name', `${where}: MQTT client id from the pod name`);
        // Pod names: StatefulSet <name>-<ordinal>; Deployment <name>-<hash up to 10>-<5>.
        const longest = w.kind === 'StatefulSet' ? w.metadata.name.length + 3 : w.metadata.name.length + 17;
        t.ok(longest <= 23, `${where}: pod names fit VIGIE_MQTT_CLIENT_ID (max 23)`);
      } else {
        t.same(c.args, ['migrate'], `${where}: vigie migrate`);
      }
    }
    for (const v of pod.spec.volumes ?? []) if (v.configMap) t.ok(configMaps.has(v.configMap.name), `${w.metadata.name}: volume ConfigMap ${v.configMap.name} exists`);
    t.equal(pod.spec.securityContext?.runAsNonRoot, true, `${w.metadata.name}: non-root`);
  }
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
