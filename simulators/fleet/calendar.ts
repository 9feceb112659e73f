/**
 * Local time in Europe/Paris, French public holidays and school holidays: what decides whether
 * a school is occupied and which traffic profile a day follows. Intl only, no dependency.
 */

const fmt = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Paris',
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  weekday: 'short',
});

export interface LocalTime {
  /** YYYY-MM-DD, local calendar day. */
  date: string;
  /** Fractional hour of day, 0-24. */
  hour: number;
  /** 0 Sunday .. 6 Saturday. */
  weekday: number;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const cache = new Map<number, LocalTime>();

/** Local time of an instant, cached per minute (every model asks it for every message). */
export function parisTime(ms: number): LocalTime {
  const minute = Math.floor(ms / 60_000);
  let lt = cache.get(minute);
  if (!lt) {
    const p = Object.fromEntries(fmt.formatToParts(new Date(minute * 60_000)).map((x) => [x.type, x.value]));
    lt = { date: `${p.year}-${p.month}-${p.day}`, hour: Number(p.hour) + Number(p.minute) / 60, weekday: WEEKDAYS.indexOf(p.weekday!) };
    if (cache.size > 100_000) cache.clear();
    cache.set(minute, lt);
  }
  return { ...lt, hour: lt.hour + (ms / 60_000 - minute) / 60 };
}

/** Easter Sunday (Gregorian computus, Meeus/Jones/Butcher algorithm). */
function easter(year: number): Date {
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
const plusDays = (d: Date, n: number) => new Date(d.getTime() + n * 86_400_000);
const holidayCache = new Map<number, Set<string>>();

/** French public holidays (Code du travail L3133-1): 11 days, three of them after Easter. */
export function isPublicHoliday(date: string): boolean {
  const year = Number(date.slice(0, 4));
  let set = holidayCache.get(year);
  if (!set) {
    const e = easter(year);
    set = new Set([
      `${year}-01-01`, `${year}-05-01`, `${year}-05-08`, `${year}-07-14`, `${year}-08-15`, `${year}-11-01`, `${year}-11-11`, `${year}-12-25`,
      iso(plusDays(e, 1)), // Easter Monday
      iso(plusDays(e, 39)), // Ascension
      iso(plusDays(e, 50)), // Whit Monday
    ]);
    holidayCache.set(year, set);
  }
  return set.has(date);
}

/**
 * School holidays of zone A (académie de Poitiers, where the demo fleet stands), from the
 * national school calendars (arrêtés fixing the calendrier scolaire): first and last day off,
 * inclusive. Data to extend each year; a scenario can add its own (`holidays`).
 */
export const SCHOOL_HOLIDAYS_ZONE_A: Array<[string, string]> = [
  ['2025-10-18', '2025-11-02'],
  ['2025-12-20', '2026-01-04'],
  ['2026-02-07', '2026-02-22'],
  ['2026-04-04', '2026-04-19'],
  ['2026-07-04', '2026-08-31'],
  ['2026-10-17', '2026-11-01'],
  ['2026-12-19', '2027-01-03'],
];

export function isSchoolHoliday(date: string, extra: Array<[string, string]> = []): boolean {
  return [...SCHOOL_HOLIDAYS_ZONE_A, ...extra].some(([a, b]) => date >= a && date <= b);
}

/** Kind of day for traffic profiles: Sundays and public holidays share one profile. */
export function dayType(lt: LocalTime): 'weekday' | 'saturday' | 'sunday' {
  if (lt.weekday === 0 || isPublicHoliday(lt.date)) return 'sunday';
  return lt.weekday === 6 ? 'saturday' : 'weekday';
}

/**
 * Collège timetable: lessons 08:00-12:00 and 13:30-17:00 Monday, Tuesday, Thursday, Friday,
 * Wednesday mornings only (the common French collège week), with the 10:00 and 15:30 breaks.
 */
export function schoolPeriod(lt: LocalTime, extraHolidays: Array<[string, string]> = []): 'lesson' | 'break' | 'closed' {
  if (lt.weekday === 0 || lt.weekday === 6 || isPublicHoliday(lt.date) || isSchoolHoliday(lt.date, extraHolidays)) return 'closed';
  const h = lt.hour;
  const end = lt.weekday === 3 ? 12 : 17;
  if (h < 8 || h >= end) return 'closed';
  if (h >= 12 && h < 13.5) return 'closed';
  if ((h >= 10 && h < 10.25) || (h >= 15.5 && h < 15.75)) return 'break';
  return 'lesson';
}

/** Hours since the school was last occupied is what picks the heating setpoint (R241-27): > 48 h is frost protection. */
export function closedForLong(lt: LocalTime, extraHolidays: Array<[string, string]> = []): boolean {
  // Saturday afternoon to Monday morning is under 48 h; a holiday week or a bank-holiday bridge is not.
  const d = new Date(`${lt.date}T12:00:00Z`);
  const closedDay = (x: Date) => {
    const date = iso(x);
    const wd = x.getUTCDay();
    return wd === 0 || wd === 6 || isPublicHoliday(date) || isSchoolHoliday(date, extraHolidays);
  };
  if (!closedDay(d)) return false;
  let before = 0;
  for (let i = 0; i >= -4 && closedDay(plusDays(d, i)); i--) before++;
  let after = 0;
  for (let i = 1; i <= 4 && closedDay(plusDays(d, i)); i++) after++;
  return before + after >= 3;
}
