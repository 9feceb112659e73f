/**
 * French public holidays (Code du travail L3133-1), for TMJO (traffic on working days), the
 * occupancy fallback of school buildings and the simulators' day profiles. Easter by the
 * anonymous Gregorian algorithm (Meeus/Jones/Butcher). Pure: no I/O, shared by every part.
 */
function easterSunday(year: number): Date {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return new Date(Date.UTC(year, month - 1, day));
}

const iso = (d: Date) => d.toISOString().slice(0, 10);
const plusDays = (d: Date, n: number) => new Date(d.getTime() + n * 86400_000);

/** The eleven national holidays of `year` as YYYY-MM-DD local dates. */
export function frenchHolidays(year: number): string[] {
  const easter = easterSunday(year);
  const fixed = ['01-01', '05-01', '05-08', '07-14', '08-15', '11-01', '11-11', '12-25'].map((md) => `${year}-${md}`);
  return [...fixed, iso(plusDays(easter, 1)), iso(plusDays(easter, 39)), iso(plusDays(easter, 50))].sort();
}

export function holidaysBetween(from: Date, to: Date): string[] {
  const out: string[] = [];
  for (let y = from.getUTCFullYear() - 1; y <= to.getUTCFullYear() + 1; y++) out.push(...frenchHolidays(y));
  return out;
}

const holidayCache = new Map<number, Set<string>>();

/** True when the YYYY-MM-DD local date is a national holiday. */
export function isFrenchHoliday(date: string): boolean {
  const year = Number(date.slice(0, 4));
  let set = holidayCache.get(year);
  if (!set) holidayCache.set(year, (set = new Set(frenchHolidays(year))));
  return set.has(date);
}
