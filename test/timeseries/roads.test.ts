/** Road conditions now: the pure ice-risk rules, and the API fed through the real MQTT ingest. */
import t from 'tap';
import { assessIceRisk } from '../../services/roads/ice-risk.ts';
import { startTestPlatform } from '../helpers/platform.ts';
import { waitFor } from '../helpers/wait.ts';

t.test('ice-risk rules (services/roads/ice-risk.ts)', async (t) => {
  const cases: Array<[string, Parameters<typeof assessIceRisk>[0], string]> = [
    ['wet at -1 °C: ice alarm', { surfaceTemperature: -1, surfaceState: 5 }, 'ice'],
    ['dry at -1 °C, no dew point: nothing', { surfaceTemperature: -1, surfaceState: 3 }, 'none'],
    ['salted: -2 °C above a -5 °C freezing point, steady', { surfaceTemperature: -2, freezingPoint: -5, surfaceState: 6, trendPerHour: 0 }, 'none'],
    ['salted but at the freezing point: ice', { surfaceTemperature: -5, freezingPoint: -5, surfaceState: 6 }, 'ice'],
    ['water film counts as moisture', { surfaceTemperature: 0, waterFilm: 0.3, surfaceState: 3 }, 'ice'],
    ['precipitation counts as moisture', { surfaceTemperature: -0.5, precipitationRate: 1.2 }, 'ice'],
    ['frost: below 0 and below the dew point', { surfaceTemperature: -1.5, dewPoint: -1, surfaceState: 3 }, 'frost'],
    ['below 0 but above the dew point: no frost', { surfaceTemperature: -1.5, dewPoint: -4, surfaceState: 3 }, 'none'],
    ['wet, 1.5 °C above freezing and falling: pre-alert', { surfaceTemperature: 1.5, surfaceState: 5, trendPerHour: -1 }, 'pre-alert'],
    ['wet, 1.5 °C and rising: nothing', { surfaceTemperature: 1.5, surfaceState: 5, trendPerHour: 0.5 }, 'none'],
    ['dry and falling: nothing', { surfaceTemperature: 1, surfaceState: 3, trendPerHour: -2 }, 'none'],
    ['stale reading: unknown', { surfaceTemperature: -3, surfaceState: 5, ageSeconds: 1800, periodSeconds: 360 }, 'unknown'],
    ['no surface temperature: unknown', { surfaceState: 5 }, 'unknown'],
    // Every NTCIP 1204 essSurfaceStatus code that means moisture or its precursors counts.
    ['absorption at -0.5 °C: ice', { surfaceTemperature: -0.5, surfaceState: 11 }, 'ice'],
    ['absorption at dew point at -0.5 °C: ice', { surfaceTemperature: -0.5, surfaceState: 14 }, 'ice'],
    ['snowWatch at -1 °C: ice (moisture at a frozen surface)', { surfaceTemperature: -1, surfaceState: 10 }, 'ice'],
    // A station reporting frost, dew at a sub-zero surface or a snow warning is never "no risk".
    ['station reports frost at +1 °C: frost', { surfaceTemperature: 1, surfaceState: 13 }, 'frost'],
    ['station reports frost, salted road above its freezing point: frost', { surfaceTemperature: -1, freezingPoint: -6, surfaceState: 13 }, 'frost'],
    ['dew on a -1 °C surface, salted to -6 °C: frost', { surfaceTemperature: -1, freezingPoint: -6, surfaceState: 12 }, 'frost'],
    ['dew at 0 °C, no freezing point: ice', { surfaceTemperature: 0, surfaceState: 12 }, 'ice'],
    ['dew at +3 °C: nothing', { surfaceTemperature: 3, surfaceState: 12, trendPerHour: 0 }, 'none'],
    ['snowWarning at +2 °C: snow', { surfaceTemperature: 2, surfaceState: 9 }, 'snow'],
    ['iceWarning at +0.5 °C (sensor lag): ice', { surfaceTemperature: 0.5, surfaceState: 7 }, 'ice'],
    ['iceWatch at +3 °C, steady: pre-alert', { surfaceTemperature: 3, surfaceState: 8, trendPerHour: 0 }, 'pre-alert'],
    ['snowWatch at +3 °C: pre-alert', { surfaceTemperature: 3, surfaceState: 10 }, 'pre-alert'],
    ['frost reported, temperature sensor down: frost', { surfaceState: 13, ageSeconds: 60, periodSeconds: 360 }, 'frost'],
    ['snowWarning reported, temperature sensor down: snow', { surfaceState: 9 }, 'snow'],
    ['stale frost report: unknown', { surfaceTemperature: -2, surfaceState: 13, ageSeconds: 1800, periodSeconds: 360 }, 'unknown'],
    ['error state at -1 °C, nothing else: nothing', { surfaceTemperature: -1, surfaceState: 2 }, 'none'],
  ];
  for (const [name, readings, level] of cases) t.equal(assessIceRisk(readings).level, level, name);
  t.equal(assessIceRisk({ surfaceTemperature: 1.25, freezingPoint: -2 }).marginToFreezing, 3.25);
});

t.test('GET /api/v1/roads/conditions through the ingest', async (t) => {
  const tp = await startTestPlatform();
  t.teardown(() => tp.stop());
  const pub = await tp.publisher();
  await tp.platform.pool.query(
    `insert into devices (id, kind, domain, registered, period_seconds) values
     ('rws-pre', 'road-weather-station', 'roads', true, 360), ('rws-frost', 'road-weather-station', 'roads', true, 360),
     ('rws-stale', 'road-weather-station', 'roads', true, 360), ('rws-snow', 'road-weather-station', 'roads', true, 360),
     ('tc-other', 'traffic-counter', 'roads', true, 360)`,
  );
  const now = Date.now();
  const send = (id: string, ts: number, metrics: Record<string, number>) =>
    pub.publishAsync(`${tp.prefix}vigie/${id}/telemetry`, JSON.stringify({ ts, metrics }), { qos: 1 });
  // Cooling 2 °C per hour on a wet road: 3.0 °C an hour ago, 1.0 °C now.
  for (let i = 0; i <= 10; i++) await send('rws-pre', now - (10 - i) * 360_000, { surface_temperature: 3 - 0.2 * i, surface_state: 5, air_temperature: 2 });
  await send('rws-frost', now - 60_000, { surface_temperature: -1.5, dew_point: -1, surface_state: 3 });
  await send('rws-stale', now - 1_800_000, { surface_temperature: -3, surface_state: 5 });
  await send('rws-snow', now - 60_000, { surface_temperature: 2, surface_state: 9 });
  interface Cond {
    deviceId: string;
    surfaceTemperature: number | null;
    marginToFreezing: number | null;
    trendPerHour: number | null;
    surfaceState: { code: number; label: string } | null;
    iceRisk: { level: string; reasons: string[] };
  }
  const items = await waitFor(async () => {
    const r = await tp.get<{ items: Cond[] }>('/api/v1/roads/conditions');
    const pre = r.body.items.find((c) => c.deviceId === 'rws-pre');
    return r.body.items.length === 4 && pre?.surfaceTemperature === 1 && r.body.items.every((c) => c.surfaceTemperature !== null) ? r.body.items : undefined;
  });
  const by = Object.fromEntries(items.map((c) => [c.deviceId, c]));
  t.equal(by['rws-pre']!.trendPerHour, -2, 'least-squares trend over the last hour');
  t.equal(by['rws-pre']!.marginToFreezing, 1);
  t.same(by['rws-pre']!.surfaceState, { code: 5, label: 'wet' });
  t.equal(by['rws-pre']!.iceRisk.level, 'pre-alert');
  t.equal(by['rws-frost']!.iceRisk.level, 'frost');
  t.equal(by['rws-stale']!.iceRisk.level, 'unknown');
  t.match(by['rws-stale']!.iceRisk.reasons[0], /30 min old/);
  t.equal(by['rws-snow']!.iceRisk.level, 'snow', 'NTCIP snowWarning at +2 °C is never "no risk"');
  t.same(by['rws-snow']!.surfaceState, { code: 9, label: 'snowWarning' });
  t.notOk(by['tc-other'], 'only road-weather stations');
});
