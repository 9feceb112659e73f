/**
 * `vigie simulate --scenario … --check` as an engineer runs it: a child process against a
 * running Vigie (broker URL, topic prefix, API URL, token from VIGIE_TOKEN), exit 0 on a pass,
 * 1 on a mismatch, 2 when the API refuses the token.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { startTestPlatform } from './helpers/platform.ts';

const token = randomBytes(24).toString('hex');
const tp = await startTestPlatform({ env: { VIGIE_REGISTRY: path.resolve('infra/demo/devices.yaml'), VIGIE_ALERT_MAX_LAG_SECONDS: '86400', VIGIE_ALERT_TICK_MS: '300', VIGIE_ADMIN_TOKEN: token } });
t.teardown(() => tp.stop());

function vigie(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/vigie.js', ...args], { env: { ...process.env, MQTT_URL: tp.platform.mqttUrl, VIGIE_TOKEN: token, ...env }, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

t.test('a scenario that holds exits 0 and prints PASS; one that does not exits 1', async (t) => {
  const common = ['--prefix', tp.prefix, '--api', tp.platform.httpUrl, '--settle', '1s', '--no-progress'];
  const ok = await vigie(['simulate', '--scenario', 'rush-hour-incident', '--check', ...common]);
  t.equal(ok.code, 0, ok.stdout + ok.stderr);
  t.match(ok.stdout, /scenario rush-hour-incident .*: PASS/);

  // Another station (a fresh device for this Vigie), the crash on lane 1, a jam expected on lane 3
  // of the other direction: that line fails, in JSON.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigie-cli-'));
  const file = path.join(dir, 'wrong.yaml');
  writeFileSync(
    file,
    ['name: wrong-lane', `registry: ${path.resolve('infra/demo/devices.yaml')}`, 'devices: [tc-rd951-pr5]', 'start: 2026-01-20T06:00:00+01:00', 'span: 4h',
      'conditions: { incidents: [{ device: tc-rd951-pr5, lanes: [lane1], from: 1h30m, to: 2h15m, capacity: 300, distance: 800 }] }',
      'expect: { alerts: [{ rule: congestion, device: tc-rd951-pr5, channel: lane3, from: 1h, to: 3h }] }'].join('\n'),
  );
  const bad = await vigie(['simulate', '--scenario', file, '--check', '--json', ...common]);
  t.equal(bad.code, 1, bad.stderr);
  const report = JSON.parse(bad.stdout) as { ok: boolean; lines: Array<{ ok: boolean; expected: string }> };
  t.equal(report.ok, false);
  t.match(report.lines[0]!.expected, /congestion on tc-rd951-pr5\/lane3/);
});

t.test('a refused token is not a scenario result: exit 2', async (t) => {
  const r = await vigie(['simulate', '--scenario', 'silent-devices', '--check', '--prefix', tp.prefix, '--api', tp.platform.httpUrl, '--settle', '0s', '--no-progress'], { VIGIE_TOKEN: 'not-a-valid-token-at-all' });
  t.equal(r.code, 2);
  t.match(r.stderr, /401/);
});
