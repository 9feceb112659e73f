/**
 * `npm run demo`: the platform on embedded defaults plus the simulated fleet publishing to it
 * every few seconds, so a newcomer sees live values at once. The API needs a token: unless
 * VIGIE_ADMIN_TOKEN is set, a fresh admin token is made for this run (stored hashed, as
 * VIGIE_ADMIN_TOKEN would be) and printed once; the previous run's stops working.
 */
import path from 'node:path';
import { loadConfig } from '../services/config.ts';
import { createLogger } from '../services/logger.ts';
import { freePort, portIsFree } from '../services/embedded/free-port.ts';
import { newTokenString } from '../services/auth/tokens.ts';
import { startPlatform } from '../services/platform.ts';
import { runFleet } from '../simulators/fleet/run.ts';
import { provisionRegistry } from '../services/broker-auth/provision.ts';

const registry = process.env.VIGIE_REGISTRY || path.resolve('infra/demo/devices.yaml');
const notes: string[] = [];

/**
 * The demo must start on a machine that already runs a broker on 1883 or a service on 3000:
 * unless the user chose a port, it moves to a free one and says so. `vigie start` does not do
 * this (a production broker port must not wander).
 */
async function demoPort(name: 'VIGIE_MQTT_PORT' | 'VIGIE_HTTP_PORT', preferred: number): Promise<string> {
  if (process.env[name]) return process.env[name]!;
  if (await portIsFree(preferred)) return String(preferred);
  const port = await freePort();
  notes.push(`port ${preferred} is taken, so the demo uses ${port} (set ${name} to choose)`);
  return String(port);
}

const givenToken = process.env.VIGIE_ADMIN_TOKEN;
const adminToken = givenToken || newTokenString().token;
const config = loadConfig({
  ...process.env,
  VIGIE_ADMIN_TOKEN: adminToken,
  VIGIE_REGISTRY: registry,
  VIGIE_LOG_LEVEL: process.env.VIGIE_LOG_LEVEL || 'warn',
  VIGIE_MQTT_PORT: process.env.MQTT_URL ? process.env.VIGIE_MQTT_PORT : await demoPort('VIGIE_MQTT_PORT', 1883),
  VIGIE_HTTP_PORT: await demoPort('VIGIE_HTTP_PORT', 3000),
});
const logger = createLogger(config.logLevel, 'vigie', { pretty: true });
let platform;
try {
  platform = await startPlatform(config, logger);
} catch (err) {
  process.stderr.write(`vigie demo: ${(err as Error).message}\n`);
  process.exit(1);
}
// The simulated fleet logs in like real devices: a fresh credential per device and gateway at
// each demo start (the previous demo's are revoked), passwords kept in memory only.
const credentials = config.mqttUrl ? undefined : await provisionRegistry(platform.pool, registry, 'demo');
const out = (line: string) => process.stdout.write(`${line}\n`);
out('');
out(`Vigie demo is running (data in ${config.dataDir}, TimescaleDB: ${platform.timescale ? 'yes' : 'no'})`);
out(givenToken ? '  token    the value of VIGIE_ADMIN_TOKEN (admin)' : `  token    ${adminToken}`);
if (!givenToken) out('           admin token for this run, shown once (the next demo replaces it; vigie token create makes lasting ones)');
out(`  try      curl -H "Authorization: Bearer ${givenToken ? '$VIGIE_ADMIN_TOKEN' : adminToken}" ${platform.httpUrl}/api/v1/devices`);
out(`  API      ${platform.httpUrl}/api/v1/devices`);
out(`  latest   ${platform.httpUrl}/api/v1/devices/rws-rd910-pr42/latest`);
out(`  docs     ${platform.httpUrl}/docs  (the browser asks for a user name and password: any name, the token as password;`);
out('           then "Authorize" in the page with the same token for "Try it out")');
out(`  metrics  ${platform.httpUrl}/metrics  (open from this machine; VIGIE_METRICS_ACCESS)`);
out(`  alerts   ${platform.httpUrl}/api/v1/alerts?state=firing  (live: /api/v1/alerts/stream, rules: /api/v1/rules)`);
out(`  MQTT     ${platform.mqttUrl}  (publish to vigie/<deviceId>/telemetry)`);
if (credentials) out(`  accounts ${Object.keys(credentials).length} simulated devices and gateways log in with their own credentials; yours: npx vigie device credentials create <id>`);
out('  formats  TTS v3 (v3/+/devices/+/up), ChirpStack v4 (application/+/device/+/event/up), SenML (vigie/<id>/senml),');
out('           Sparkplug B (spBv1.0/#), NGSI (vigie/ngsi, POST /ngsi/notify): see the README, "Wire formats"');
out(`  profiles ${platform.httpUrl}/api/v1/profiles   dead letters ${platform.httpUrl}/api/v1/dead-letters`);
for (const note of notes) out(`  note     ${note}`);
out('Press Ctrl+C to stop.');
out('');
// The fleet's progress lines stay quiet; a failed publish is shown with its reason.
const fleetLog = logger.child({ component: 'simulator' });
const fleet = runFleet({
  url: platform.mqttUrl,
  registryPath: registry,
  intervalSeconds: 5,
  topicPrefix: config.mqtt.topicPrefix,
  seed: 1,
  credentials,
  log: (line) => {
    if (line.startsWith('publish failed')) fleetLog.warn(line);
  },
});
await fleet;
await platform.stop();
process.exit(0);
