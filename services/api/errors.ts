/**
 * JSON errors with a stable `code`: `VIGIE_ERR_VALIDATION` (400, names the field),
 * `VIGIE_ERR_NOT_FOUND` (404), `VIGIE_ERR_INTERNAL` (500), or a VigieError's own code (access
 * control: `VIGIE_ERR_UNAUTHENTICATED` 401, `VIGIE_ERR_FORBIDDEN` 403, `VIGIE_ERR_RATE_LIMITED` and
 * `VIGIE_ERR_AUTH_RATE_LIMITED` 429, `VIGIE_ERR_IDP_UNAVAILABLE` 503).
 */
import type { FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';

export interface ApiErrorBody {
  code: string;
  message: string;
  field?: string;
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issue = err.validation[0];
      const field = issue ? issue.instancePath.replace(/^\//, '').replace(/\//g, '.') || issue.params?.issue?.path?.join('.') : undefined;
      const where = err.validationContext ?? 'request';
      const body: ApiErrorBody = {
        code: 'VIGIE_ERR_VALIDATION',
        message: `${where}${field ? `.${field}` : ''}: ${issue?.message ?? 'invalid'}`,
        ...(field ? { field } : {}),
      };
      return reply.status(400).send(body);
    }
    const e = err as { statusCode?: number; code?: string; message: string; field?: string };
    const status = e.statusCode && e.statusCode >= 400 && e.statusCode < 600 ? e.statusCode : 500;
    if (status >= 500) request.log.error({ err }, 'request failed');
    const code = e.code?.startsWith('VIGIE_ERR_') ? e.code : status === 400 ? 'VIGIE_ERR_BAD_REQUEST' : status === 404 ? 'VIGIE_ERR_NOT_FOUND' : status === 413 ? 'VIGIE_ERR_TOO_LARGE' : status >= 500 ? 'VIGIE_ERR_INTERNAL' : `VIGIE_ERR_HTTP_${status}`;
    // A 503 with a code of ours says which dependency is away (no internals); other 5xx say nothing.
    const open = status < 500 || (status === 503 && code !== 'VIGIE_ERR_INTERNAL' && e.code === code);
    return reply.status(status).send({ code, message: open ? e.message : 'internal error', ...(e.field ? { field: e.field } : {}) });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ code: 'VIGIE_ERR_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` });
  });
}

export function notFound(message: string): Error & { statusCode: number; code: string } {
  return Object.assign(new Error(message), { statusCode: 404, code: 'VIGIE_ERR_NOT_FOUND' });
}

export function badRequest(message: string, field?: string): Error & { statusCode: number; code: string; field?: string } {
  return Object.assign(new Error(message), { statusCode: 400, code: 'VIGIE_ERR_VALIDATION', field });
}
