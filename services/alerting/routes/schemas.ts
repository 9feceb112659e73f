/** Response shapes of the alerting API (validation, serialization and OpenAPI from one source). */
import { z } from 'zod';
import { alertStateSchema, ruleSchema, ruleSourceSchema, scopeSchema, severitySchema } from '../../../schemas/alerting.ts';

export const alertViewSchema = z.object({
  id: z.string(),
  ruleId: z.string(),
  ruleName: z.string(),
  severity: severitySchema,
  domain: z.string().nullable(),
  deviceId: z.string(),
  channel: z.string(),
  state: alertStateSchema,
  startedAt: z.string(),
  firedAt: z.string().nullable(),
  resolvedAt: z.string().nullable(),
  lastValue: z.number().nullable(),
  summary: z.string(),
  silenced: z.boolean(),
  silenceId: z.string().nullable(),
  ack: z.object({ at: z.string(), by: z.string(), comment: z.string() }).nullable(),
  escalatedAt: z.string().nullable(),
  updatedAt: z.string(),
});

export const timelineEntrySchema = z.object({
  type: z.string(),
  time: z.string(),
  at: z.string(),
  value: z.number().nullable(),
  detail: z.record(z.string(), z.unknown()),
});

export const deliverySchema = z.object({
  event: z.string(),
  target: z.string(),
  attempt: z.number(),
  status: z.enum(['delivered', 'failed']),
  httpStatus: z.number().nullable(),
  error: z.string().nullable(),
  at: z.string(),
});

export const ruleViewSchema = z.object({
  rule: ruleSchema,
  source: ruleSourceSchema,
  origin: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const silenceViewSchema = z.object({
  id: z.string(),
  scope: scopeSchema.extend({ rules: z.array(z.string()).optional() }),
  startsAt: z.string(),
  endsAt: z.string(),
  reason: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  deletedAt: z.string().nullable(),
});
