/** Shared query-string schemas: lists (repeated or comma-separated), times, limits. */
import { z } from 'zod';

/** `?device=a&device=b` or `?device=a,b`. */
export const listParam = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean));

/**
 * ISO 8601 (RFC 3339 profile) date or date-time. A date-time without a zone is UTC: the API
 * never depends on the server's zone. Years 0001-9999 only: JavaScript parses wider years than
 * PostgreSQL's timestamptz stores, and none of them is a telemetry time.
 */
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;

export function parseApiTime(text: string): Date | null {
  const m = ISO_TIME.exec(text);
  if (!m || m[1] === '0000') return null;
  const zoned = m[4] !== undefined && m[7] === undefined ? `${text}Z` : text;
  const t = Date.parse(zoned.replace(' ', 'T'));
  return Number.isNaN(t) ? null : new Date(t);
}

export const timeParam = z
  .string()
  .max(64)
  .refine((s) => parseApiTime(s) !== null, 'expected an ISO 8601 date-time (years 0001-9999), e.g. 2026-01-15T08:00:00Z')
  .transform((s) => parseApiTime(s)!);

export const limitParam = (def: number, max: number) => z.coerce.number().int().min(1).max(max).default(def);

export const errorSchema = z.object({ code: z.string(), message: z.string(), field: z.string().optional() });

export function listOf<T extends z.ZodTypeAny>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}
