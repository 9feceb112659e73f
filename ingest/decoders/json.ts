/** JSON helpers shared by the JSON-based decoders. */
import type { z } from 'zod';
import type { Reject } from '../../schemas/index.ts';

export function parseJson(payload: Buffer): { ok: true; value: unknown } | { ok: false; reject: Reject } {
  try {
    return { ok: true, value: JSON.parse(payload.toString('utf8')) };
  } catch (err) {
    // The same reason on every supported Node.js: V8 12 (Node 22 and later) appends the line
    // and column to the position its messages already give.
    const message = (err as Error).message.replace(/ \(line \d+ column \d+\)$/, '');
    return { ok: false, reject: { code: 'invalid_json', reason: `payload is not JSON: ${message}` } };
  }
}

/** The first zod issue as a reject naming the field. */
export function zodIssueReject(error: z.ZodError): Reject {
  const issue = error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : undefined;
  const message = issue?.message ?? 'invalid message';
  return { code: 'invalid_envelope', field, reason: field ? `${field}: ${message}` : message };
}
