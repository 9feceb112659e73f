/** Query-string pieces shared by the time-series routes. */
import { z } from 'zod';
import { METRIC_NAMES } from '../../../schemas/index.ts';
import { PERIOD_ORDER_MESSAGE } from '../../api/input-guard.ts';
import { listParam, timeParam } from '../../api/query-params.ts';
import { isValidTimeZone } from '../buckets.ts';

export const metricList = listParam.refine((ms) => ms.length > 0 && ms.every((m) => (METRIC_NAMES as string[]).includes(m)), 'unknown metric (see GET /api/v1/metrics)');
export const deviceList = listParam.refine((ds) => ds.length > 0 && ds.length <= 1000, 'one to 1000 device ids');
export const tzParam = z.string().max(64).default('Europe/Paris').refine(isValidTimeZone, 'unknown IANA time zone');
/** `from`/`to` of the time-series routes: required, with a zone (see timeParam). */
export const requiredTime = timeParam;

/** A period is required and ordered: an open range over years of data is refused up front. */
export function checkPeriod(from: Date, to: Date): string | null {
  if (from >= to) return PERIOD_ORDER_MESSAGE;
  return null;
}
