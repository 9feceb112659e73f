/**
 * The production timer (setInterval on the system clock, no hand-driven ticks): it raises a
 * missing-data alert and fires a `for` rule at the observed time they became due. The
 * observations are stamped so that the deadline falls a second or two after publication.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import { alertsOf } from '../helpers/alerting.ts';
import { startTestPlatform } from '../helpers/platform.ts';
import { waitFor } from '../helpers/wait.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigie-timer-'));
writeFileSync(
  path.join(dir, 'rules.yaml'),
  stringify({
    rules: [
      { id: 'silent', name: 'Silent', severity: 'warning', condition: { type: 'missing', after: '10m' } },
      { id: 'fog', name: 'Fog', severity: 'warning', for: '1m', condition: { type: 'threshold', metric: 'visibility', op: 'below', value: 400 } },
    ],
  }),
);
const tp = await startTestPlatform({ env: { VIGIE_RULES_DIR: dir, VIGIE_ALERT_TICK_MS: '200', VIGIE_BATCH_MS: '5' } });
t.teardown(async () => {
  await tp.stop();
  rmSync(dir, { recursive: true, force: true });
});
const pub = await tp.publisher();
const id = `timer-${randomBytes(3).toString('hex')}`;

t.test('missing data and `for` expiry fire from the real timer, at their due observed time', async (t) => {
  const seen = Date.now() - 10 * 60_000 + 1500;
  await pub.publishAsync(`${tp.prefix}vigie/${id}/telemetry`, JSON.stringify({ ts: seen, metrics: { air_temperature: 3 } }), { qos: 1 });
  const [silent] = await waitFor(async () => {
    const a = await alertsOf(tp, `device=${id}&rule=silent&state=firing`);
    return a.length ? a : undefined;
  }, 20_000, 'the offline alert');
  t.equal(silent!.firedAt, new Date(seen + 10 * 60_000).toISOString());

  const foggy = Date.now() - 60_000 + 1500;
  await pub.publishAsync(`${tp.prefix}vigie/${id}/telemetry`, JSON.stringify({ ts: foggy, metrics: { visibility: 150 } }), { qos: 1 });
  const [fog] = await waitFor(async () => {
    const a = await alertsOf(tp, `device=${id}&rule=fog&state=firing`);
    return a.length ? a : undefined;
  }, 20_000, 'the fog alert');
  t.equal(fog!.startedAt, new Date(foggy).toISOString());
  t.equal(fog!.firedAt, new Date(foggy + 60_000).toISOString());
  const [recovered] = await alertsOf(tp, `device=${id}&rule=silent`);
  t.equal(recovered!.state, 'resolved', 'the device was heard again');
});
