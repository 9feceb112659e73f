/** Query-string pieces shared by the time-series routes. */
import { z } from 'zod';
import { METRIC_NAMES } from '../../../schemas/index.ts';
import { listParam } from '../../api/query-params.ts';
import { isValidTimeZone } from '../buckets.ts';

export const metricList = listParam.refine((ms) => ms.length > 0 && ms.every((m) => (METRIC_NAMES as string[]).includes(m)), 'unknown metric (see GET /api/v1/metrics)');
export const deviceList = listParam.refine((ds) => ds.length > 0 && ds.length <= 1000, 'one to 1000 device ids');
export const tzParam = z.string().max(64).default('Europe/Paris').refine(isValidTimeZone, 'unknown IANA time zone');
/**
 * `from`/`to` of the time-series routes: an ISO 8601 date-time WITH a zone (Z or an offset). A
 * zone-less one would be read in the server process's zone, and names two instants once a year
 * (the autumn DST change), so it is refused rather than guessed.
 */
export const requiredTime = z
  .string()
  .refine((s) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})$/.test(s.trim()), 'expected an ISO 8601 date-time with a zone (Z or an offset such as +01:00)')
  .refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO 8601 date-time')
  .transform((s) => new Date(s));

/** A period is required and ordered: an open range over years of data is refused up front. */
export function checkPeriod(from: Date, to: Date): string | null {
  if (from >= to) return 'querystring.from: must be before "to"';
  return null;
}
