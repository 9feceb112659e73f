/** JSON helpers shared by the JSON-based decoders. */
import type { z } from 'zod';
import type { Reject } from '../../schemas/index.ts';

export function parseJson(payload: Buffer): { ok: true; value: unknown } | { ok: false; reject: Reject } {
  try {
    return { ok: true, value: JSON.parse(payload.toString('utf8')) };
  } catch (err) {
    return { ok: false, reject: { code: 'invalid_json', reason: `payload is not JSON: ${(err as Error).message}` } };
  }
}

/** The first zod issue as a reject naming the field. */
export function zodIssueReject(error: z.ZodError): Reject {
  const issue = error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : undefined;
  const message = issue?.message ?? 'invalid message';
  return { code: 'invalid_envelope', field, reason: field ? `${field}: ${message}` : message };
}
