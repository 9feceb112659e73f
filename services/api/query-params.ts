/** Shared query-string schemas: lists (repeated or comma-separated), times, limits. */
import { z } from 'zod';

/** `?device=a&device=b` or `?device=a,b`. */
export const listParam = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean));

export const timeParam = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO 8601 date-time')
  .transform((s) => new Date(s));

export const limitParam = (def: number, max: number) => z.coerce.number().int().min(1).max(max).default(def);

export const errorSchema = z.object({ code: z.string(), message: z.string(), field: z.string().optional() });

export function listOf<T extends z.ZodTypeAny>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}
