import t from 'tap';
import { epochToDate, parseTimestamp, zoneOffsetMinutes } from './timestamp.ts';

const iso = (input: unknown, assumeZone?: string) => {
  const r = parseTimestamp(input, { assumeZone });
  return r.ok ? r.time.toISOString() : `error: ${r.reason}`;
};

t.test('ISO 8601 forms devices send', async (t) => {
  t.equal(iso('2026-01-15T06:30:00Z'), '2026-01-15T06:30:00.000Z');
  t.equal(iso('2026-01-15T07:30:00+01:00'), '2026-01-15T06:30:00.000Z', 'offset');
  t.equal(iso('2026-01-15T07:30:00+0100'), '2026-01-15T06:30:00.000Z', 'offset without colon');
  t.equal(iso('2026-07-15T08:30:00.123456789+02:00'), '2026-07-15T06:30:00.123Z', 'nanoseconds (The Things Stack) truncated to ms');
  t.equal(iso('2026-01-15 06:30:00Z'), '2026-01-15T06:30:00.000Z', 'space separator');
  t.match(iso('2026-01-15T06:30:00'), /^error: timestamp "2026-01-15T06:30:00" has no time zone: add Z/, 'no zone and none to assume: refused, not guessed');
  t.match(iso('2026-01-15'), /has no time zone/, 'a bare date neither');
  t.equal(iso('2026-01-15T07:30:00', 'Europe/Paris'), '2026-01-15T06:30:00.000Z', 'no zone, Paris winter');
  t.equal(iso('2026-07-15T08:30:00', 'Europe/Paris'), '2026-07-15T06:30:00.000Z', 'no zone, Paris summer');
});

t.test('epoch numbers in any unit, and numbers as strings', async (t) => {
  const ms = Date.parse('2026-01-15T06:30:00Z');
  t.equal(iso(ms / 1000), '2026-01-15T06:30:00.000Z', 'seconds');
  t.equal(iso(ms), '2026-01-15T06:30:00.000Z', 'milliseconds');
  t.equal(iso(ms * 1000), '2026-01-15T06:30:00.000Z', 'microseconds');
  t.equal(iso(ms * 1e6), '2026-01-15T06:30:00.000Z', 'nanoseconds');
  t.equal(iso(String(ms)), '2026-01-15T06:30:00.000Z', 'string of ms');
  const r = parseTimestamp(String(ms));
  t.ok(r.ok && r.parsedString, 'flagged as parsed from a string');
  t.equal(epochToDate(1.5).getTime(), 1500, 'fractional seconds');
});

t.test('rejects what is not a time, naming what came', async (t) => {
  t.match(iso('yesterday'), /^error: expected an ISO 8601 timestamp, got "yesterday"/);
  t.match(iso('2026-02-30T00:00:00Z'), /does not exist/);
  t.match(iso('2026-13-01T00:00:00Z'), /out-of-range/);
  t.match(iso(null), /got null/);
  t.match(iso({}), /got an object/);
  t.match(iso(Number.NaN), /finite/);
});

t.test('Paris offsets across DST', async (t) => {
  t.equal(zoneOffsetMinutes('Europe/Paris', Date.parse('2026-01-15T12:00:00Z')), 60);
  t.equal(zoneOffsetMinutes('Europe/Paris', Date.parse('2026-07-15T12:00:00Z')), 120);
  // 2026-03-29 02:30 local does not exist (clocks jump 02:00 -> 03:00); it maps to 01:30Z or 00:30Z, never throws.
  t.ok(parseTimestamp('2026-03-29T02:30:00', { assumeZone: 'Europe/Paris' }).ok);
});
