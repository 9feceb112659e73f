/** Shared query-string schemas: lists (repeated or comma-separated), times, limits. */
import { z } from 'zod';

/** `?device=a&device=b` or `?device=a,b`. */
export const listParam = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean));

/**
 * An ISO 8601 date-time with its zone (RFC 3339 `date-time`: `Z` or an offset). A zone-less one
 * would be read in the server's zone, and names two instants once a year (the autumn DST
 * change): it is refused rather than guessed. Years 0001-9999 only: JavaScript reads wider
 * years than PostgreSQL's timestamptz stores, and none of them is a telemetry time.
 */
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})$/;

export function parseApiTime(text: string): Date | null {
  const m = ISO_TIME.exec(text.trim());
  if (!m || m[1] === '0000') return null;
  const t = Date.parse(text.trim().replace(' ', 'T'));
  return Number.isNaN(t) ? null : new Date(t);
}

/** Why `s` is not an API time, or null: the message names a missing zone explicitly. */
export function isoTimeProblem(s: string): string | null {
  if (parseApiTime(s)) return null;
  if (Number.isNaN(Date.parse(s))) return 'expected an ISO 8601 date-time';
  if (!/(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$/.test(s.trim())) return `${JSON.stringify(s.slice(0, 40))} has no time zone: add Z (UTC) or an offset such as +01:00`;
  return 'expected an ISO 8601 date-time with a zone (Z or an offset such as +01:00), years 0001-9999';
}

export const timeParam = z
  .string()
  .max(64)
  .superRefine((s, ctx) => {
    const problem = isoTimeProblem(s);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .transform((s) => parseApiTime(s)!);

export const limitParam = (def: number, max: number) => z.coerce.number().int().min(1).max(max).default(def);

export const errorSchema = z.object({ code: z.string(), message: z.string(), field: z.string().optional() });

export function listOf<T extends z.ZodTypeAny>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}
