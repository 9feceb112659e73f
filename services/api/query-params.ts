/** Shared query-string schemas: lists (repeated or comma-separated), times, limits. */
import { z } from 'zod';

/** `?device=a&device=b` or `?device=a,b`. */
export const listParam = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean));

/**
 * An ISO 8601 date-time must name its zone (`Z` or an offset), as ingested timestamps must
 * (ingest/normalize/timestamp.ts): JavaScript reads a zone-less date-time in the server's own
 * zone and a bare date as UTC, so the same text would mean different instants.
 */
export function isoTimeProblem(s: string): string | null {
  if (Number.isNaN(Date.parse(s))) return 'expected an ISO 8601 date-time';
  if (!/(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$/.test(s.trim())) return `${JSON.stringify(s.slice(0, 40))} has no time zone: add Z (UTC) or an offset such as +01:00`;
  return null;
}

export const timeParam = z
  .string()
  .superRefine((s, ctx) => {
    const problem = isoTimeProblem(s);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .transform((s) => new Date(s));

export const limitParam = (def: number, max: number) => z.coerce.number().int().min(1).max(max).default(def);

export const errorSchema = z.object({ code: z.string(), message: z.string(), field: z.string().optional() });

export function listOf<T extends z.ZodTypeAny>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}
