/** Who am I, API tokens (admins) and the audit log (admins). */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type pg from 'pg';
import { z } from 'zod';
import { badRequest, notFound } from '../api/errors.ts';
import { errorSchema, limitParam, listOf, timeParam } from '../api/query-params.ts';
import { VigieError } from '../errors.ts';
import { listAudit } from './audit.ts';
import { domainGrantSchema, parseDomainWords, roleSchema } from './identity.ts';
import type { LiveSessions } from './live-sessions.ts';
import { domainsWithin } from './scope.ts';
import { createToken, getToken, listTokens, revokeToken } from './tokens.ts';

const domainsSchema = z.union([z.literal('all'), z.array(domainGrantSchema)]);

const tokenViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: roleSchema,
  domains: domainsSchema,
  createdAt: z.string(),
  createdBy: z.string(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  revokedBy: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  active: z.boolean(),
});

const auditViewSchema = z.object({
  id: z.number(),
  at: z.string(),
  subject: z.string().nullable(),
  role: z.string().nullable(),
  tokenId: z.string().nullable(),
  action: z.string(),
  target: z.record(z.string(), z.unknown()),
  status: z.number().nullable(),
  source: z.string().nullable(),
  userAgent: z.string().nullable(),
});

export async function authRoutes(app: FastifyInstance, opts: { pool: pg.Pool; sessions: LiveSessions }): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { pool } = opts;

  r.get(
    '/whoami',
    {
      config: { access: 'authenticated' },
      schema: {
        tags: ['access'],
        summary: 'The identity this request is made with: subject, role, domains',
        response: { 200: z.object({ subject: z.string(), role: roleSchema, domains: domainsSchema, via: z.string(), tokenId: z.string().nullable(), name: z.string().nullable() }) },
      },
    },
    async (req) => {
      const id = req.identity!;
      return { subject: id.subject, role: id.role, domains: id.domains, via: id.via, tokenId: id.tokenId ?? null, name: id.name ?? null };
    },
  );

  r.get(
    '/tokens',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['access'],
        summary: 'API tokens (never their secret); revoked and expired ones with includeInactive=true',
        querystring: z.object({ includeInactive: z.enum(['true', 'false']).transform((v) => v === 'true').default(false) }),
        response: { 200: z.object({ items: z.array(tokenViewSchema) }) },
      },
    },
    async (req) => ({ items: await listTokens(pool, { includeInactive: req.query.includeInactive }) }),
  );

  r.post(
    '/tokens',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['access'],
        summary: 'Create an API token; the answer holds the token, shown this once only',
        body: z
          .object({
            name: z.string().max(200).default(''),
            role: roleSchema,
            domains: z.array(z.string().min(1).max(160)).max(100).optional().describe('roads, buildings, roads:<route>, buildings:<building>; absent: every domain'),
            expiresAt: z.coerce.date().optional(),
            expiresInDays: z.number().int().min(1).max(36600).optional(),
          })
          .strict(),
        response: { 201: z.object({ token: z.string(), item: tokenViewSchema }), 400: errorSchema, 403: errorSchema },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const domains = b.domains ? parseDomainWords(b.domains) : 'all';
      if (domains !== 'all' && !Array.isArray(domains)) throw badRequest(`body.domains: ${domains.error}`, 'domains');
      if (Array.isArray(domains) && domains.length === 0) throw badRequest('body.domains: grants nothing', 'domains');
      if (!domainsWithin(domains, req.identity!.domains)) throw new VigieError('VIGIE_ERR_FORBIDDEN', 'a token cannot reach domains its creator does not', { statusCode: 403 });
      if (b.expiresAt && b.expiresInDays) throw badRequest('body: expiresAt or expiresInDays, not both', 'expiresAt');
      const expiresAt = b.expiresAt ?? (b.expiresInDays ? new Date(Date.now() + b.expiresInDays * 86_400_000) : undefined);
      if (expiresAt && expiresAt.getTime() <= Date.now()) throw badRequest('body.expiresAt: must be in the future', 'expiresAt');
      const { token, view } = await createToken(pool, { name: b.name, role: b.role, domains, expiresAt, createdBy: req.identity!.subject });
      req.auditTarget = { tokenId: view.id, role: view.role };
      reply.status(201);
      return { token, item: view };
    },
  );

  r.delete(
    '/tokens/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['access'],
        summary: 'Revoke an API token: it stops working at the next request',
        params: z.object({ id: z.string().min(1).max(64) }),
        response: { 204: z.null(), 404: errorSchema },
      },
    },
    async (req, reply) => {
      const t = await getToken(pool, req.params.id);
      if (!t || !domainsWithin(t.domains, req.identity!.domains)) throw notFound(`no token ${req.params.id}`);
      if (!(await revokeToken(pool, req.params.id, req.identity!.subject))) throw notFound(`no active token ${req.params.id}`);
      opts.sessions.revoked(req.params.id);
      reply.status(204);
      return null;
    },
  );

  r.get(
    '/audit',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['access'],
        summary: 'Audit log of every write, newest first',
        querystring: z.object({
          subject: z.string().max(300).optional(),
          action: z.string().min(1).max(300).optional().describe('case-insensitive substring, e.g. "POST /api/v1/rules"'),
          from: timeParam.optional(),
          to: timeParam.optional(),
          cursor: z.string().regex(/^\d+$/).optional(),
          limit: limitParam(100, 1000),
        }),
        response: { 200: listOf(auditViewSchema), 400: errorSchema },
      },
    },
    async (req) => {
      const q = req.query;
      const items = await listAudit(pool, { subject: q.subject, action: q.action, from: q.from, to: q.to, before: q.cursor ? Number(q.cursor) : undefined, limit: q.limit + 1 });
      const page = items.slice(0, q.limit);
      return { items: page, nextCursor: items.length > q.limit ? String(page[page.length - 1]!.id) : null };
    },
  );
}
