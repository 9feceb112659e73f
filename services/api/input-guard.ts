/**
 * One guard for what every route receives, before any route schema runs:
 * - no NUL character in a path parameter, a query parameter or a JSON body string (PostgreSQL
 *   text cannot hold U+0000: SQLSTATE 22021 would turn a bad request into a 500);
 * - no JSON body nested deeper than any route takes (recursive validation stays cheap);
 * - `from` after `to` is refused the same way on every route that takes both.
 * Answers 400 VIGIE_ERR_VALIDATION naming the field, like a schema error.
 */
import type { FastifyInstance } from 'fastify';
import { badRequest } from './errors.ts';
import { parseApiTime } from './query-params.ts';

/** How deep a JSON body is walked; deeper bodies are refused (no route takes one). */
const MAX_DEPTH = 64;

class TooDeep extends Error {}

function findNul(value: unknown, path: string, depth: number): string | null {
  if (depth > MAX_DEPTH) throw new TooDeep(path);
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findNul(value[i], `${path}.${i}`, depth + 1);
      if (found) return found;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k.includes('\u0000')) return `${path}.${k.replace(/\u0000/g, '\\0')}`;
      const found = findNul(v, `${path}.${k}`, depth + 1);
      if (found) return found;
    }
  }
  return null;
}

export const PERIOD_ORDER_MESSAGE = 'querystring.from: must be before "to"';

export function installInputGuard(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    for (const [where, value] of [
      ['params', request.params],
      ['querystring', request.query],
      ['body', request.body],
    ] as const) {
      let at: string | null;
      try {
        at = findNul(value, where, 0);
      } catch (err) {
        if (!(err instanceof TooDeep)) throw err;
        throw badRequest(`${where}: nested more than ${MAX_DEPTH} levels deep`, where);
      }
      if (at) throw badRequest(`${at}: contains a NUL character (U+0000), which no field accepts`, at.slice(at.indexOf('.') + 1) || where);
    }
    const q = request.query as Record<string, unknown> | undefined;
    if (q && typeof q.from === 'string' && typeof q.to === 'string') {
      const from = parseApiTime(q.from);
      const to = parseApiTime(q.to);
      if (from && to && from > to) throw badRequest(PERIOD_ORDER_MESSAGE, 'from');
    }
  });
}
