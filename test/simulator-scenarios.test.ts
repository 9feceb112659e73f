/**
 * Every shipped scenario passes `--check` end to end (simulator -> broker -> Vigie with the
 * default rule pack -> HTTP API), at full speed, each on its own platform; and a scenario whose
 * expectation is wrong fails. The platform pins what a fast scenario needs: the demo registry
 * (rule scopes), and VIGIE_ALERT_MAX_LAG_SECONDS longer than a scenario's span, since an
 * accelerated night arrives within seconds with observation times hours old; and an API token
 * the checker sends as a bearer token.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import { runAndCheck } from '../simulators/scenario/run.ts';
import { formatReport } from '../simulators/scenario/check.ts';
import { loadScenario, SCENARIOS_DIR } from '../simulators/scenario/schema.ts';
import { startTestPlatform } from './helpers/platform.ts';

// The checker reads the API over real HTTP with a token, as `--token` / VIGIE_TOKEN does.
const token = randomBytes(24).toString('hex');
const env = { VIGIE_REGISTRY: path.resolve('infra/demo/devices.yaml'), VIGIE_ALERT_MAX_LAG_SECONDS: String(2 * 86400), VIGIE_ALERT_TICK_MS: '300', VIGIE_ADMIN_TOKEN: token };

async function check(nameOrFile: string) {
  const scenario = loadScenario(nameOrFile);
  // A burst scenario is judged by the alert timer's next tick: keep Vigie's default 5 s tick, so no tick
  // falls inside the burst itself, and wait for one.
  const burst = scenario.speed === 'max';
  const tp = await startTestPlatform({ env: burst ? { ...env, VIGIE_ALERT_TICK_MS: '5000' } : env });
  try {
    return await runAndCheck(scenario, { broker: { url: tp.platform.mqttUrl }, topicPrefix: tp.prefix, api: { url: tp.platform.httpUrl, token }, settleMs: burst ? 6000 : 1500, progress: false });
  } finally {
    await tp.stop();
  }
}

for (const name of ['ice-night', 'rush-hour-incident', 'poor-ventilation', 'boiler-failure', 'silent-devices']) {
  t.test(`scenario ${name} passes its check`, async (t) => {
    const report = await check(name);
    t.ok(report.ok, formatReport(report));
    t.ok(report.lines.length >= 2, 'the scenario checks something');
  });
}

t.test('a scenario with a wrong expectation fails, naming it', async (t) => {
  const s = loadScenario('ice-night');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigie-scn-'));
  const file = path.join(dir, 'wrong.yaml');
  // The dry station is expected to ice: it must not, so the check must fail on that line only.
  const raw = {
    name: 'wrong-ice-night',
    registry: path.relative(dir, path.resolve(SCENARIOS_DIR, s.registry)),
    devices: s.devices,
    start: s.start,
    span: '14h',
    conditions: { weather: s.conditions.weather.map((w) => ({ ...w, from: `${w.from / 1000}s`, to: w.to === undefined ? undefined : `${w.to / 1000}s` })) },
    expect: { alerts: [{ rule: 'ice-alarm', device: 'rws-rd910-pr42', from: '3h', to: '12h' }, { rule: 'ice-alarm', device: 'rws-rd951-pr3', from: '0s', to: '14h' }] },
  };
  writeFileSync(file, stringify(raw));
  const report = await check(file);
  t.notOk(report.ok, 'the check fails');
  t.same(report.lines.map((l) => l.ok), [true, false], 'only the wrong expectation fails');
  t.match(report.lines[1]!.actual, /no such alert/);
});
