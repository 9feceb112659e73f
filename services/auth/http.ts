/**
 * Access control for the Fastify app: who is calling (API token or OpenID Connect JWT, as a
 * bearer token per RFC 6750 §2.1, or as the password of HTTP Basic for browsers opening the
 * API documentation), whether their role allows the route, which devices they see, and an
 * audit entry for every write. Installed on the root instance before any route, so every
 * route, including those of modules and plugins (/docs), goes through it.
 *
 * A route states what it needs in its config: `{ config: { access: 'operate' } }`. Without
 * it a GET needs `read` and anything else `admin`, so a new write route is closed until it
 * says otherwise.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type pg from 'pg';
import client from 'prom-client';
import { VigieError } from '../errors.ts';
import { recordAudit } from './audit.ts';
import { FailureLimiter } from './failure-limiter.ts';
import { roleAllows, type Access, type Identity } from './identity.ts';
import { looksLikeJwt, type OidcVerifier } from './oidc.ts';
import { LiveSessions } from './live-sessions.ts';
import { DeviceScopes, UNRESTRICTED, type DeviceScope } from './scope.ts';
import { TokenTouch, verifyApiToken } from './tokens.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the access hook on every route but the public ones (/health, /ready, open /metrics). */
    identity: Identity | null;
    /** Devices this identity may see (domain scoping). */
    deviceScope(): Promise<DeviceScope>;
    /** Extra fields for this request's audit entry (ids created by the route). */
    auditTarget: Record<string, unknown> | null;
    /**
     * For streams: `close` is called if the identity stops being valid (revoked, expired)
     * while the stream is open. Returns the function to call when the stream ends.
     */
    liveSession(close: () => void): () => void;
  }
  interface FastifyContextConfig {
    access?: Access;
  }
}

export type MetricsAccess = 'loopback' | 'open' | 'token';

export interface AccessControlDeps {
  pool: pg.Pool;
  logger: Logger;
  oidc?: OidcVerifier;
  metricsAccess: MetricsAccess;
  tokenTouchMs: number;
  authFailureLimit: number;
  authFailureWindowMs: number;
  /** How often open streams re-check their identity. */
  recheckMs: number;
  metricsRegistry: client.Registry;
}

const PUBLIC_PATHS = new Set(['/health', '/ready']);
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isLoopbackAddress(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
}

function pathOf(req: FastifyRequest): string {
  return req.url.split('?')[0]!;
}

/** Public routes need nobody; /metrics depends on VIGIE_METRICS_ACCESS. */
export function isPublic(req: FastifyRequest, metricsAccess: MetricsAccess): boolean {
  const path = pathOf(req);
  if (PUBLIC_PATHS.has(path)) return true;
  if (path === '/metrics') return metricsAccess === 'open' || (metricsAccess === 'loopback' && isLoopbackAddress(req.ip));
  return false;
}

function requiredAccess(req: FastifyRequest): Access {
  const declared = req.routeOptions.config?.access;
  if (declared) return declared;
  const path = pathOf(req);
  if (path === '/docs' || path.startsWith('/docs/')) return 'authenticated';
  // No route matched: any identity may learn it does not exist; anonymous callers may not.
  if (!req.routeOptions.url) return 'authenticated';
  return READ_METHODS.has(req.method) ? 'read' : 'admin';
}

/** `Authorization: Bearer <token>` or `Basic base64(<anything>:<token>)`. */
export function credentialsOf(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^(\w+)\s+(\S+)\s*$/.exec(header);
  if (!m) return null;
  const scheme = m[1]!.toLowerCase();
  if (scheme === 'bearer') return m[2]!;
  if (scheme === 'basic') {
    const decoded = Buffer.from(m[2]!, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    return i >= 0 && decoded.length > i + 1 ? decoded.slice(i + 1) : null;
  }
  return null;
}

function challenge(reply: FastifyReply, req: FastifyRequest, error?: string): void {
  const path = pathOf(req);
  // Browsers prompt for Basic credentials: the way to open /docs with a token (password field).
  const basic = path === '/docs' || path.startsWith('/docs/') ? ', Basic realm="vigie", charset="UTF-8"' : '';
  reply.header('www-authenticate', `Bearer realm="vigie"${error ? `, error="${error}"` : ''}${basic}`);
}

export function installAccessControl(app: FastifyInstance, deps: AccessControlDeps): { sessions: LiveSessions } {
  const scopes = new DeviceScopes(deps.pool);
  const limiter = new FailureLimiter(deps.authFailureLimit, deps.authFailureWindowMs);
  const touch = new TokenTouch(deps.pool, deps.tokenTouchMs, (err) => deps.logger.warn({ err }, 'could not record a token use'));
  const restrictedNothing: DeviceScope = { all: false, has: () => false, restrict: () => [''], restrictList: () => [''] };
  const sessions = new LiveSessions(deps.pool, deps.recheckMs, deps.logger);
  // Refusals are counted, not logged one by one (a scan would flood the log).
  const refusals = new client.Counter({
    name: 'vigie_auth_refusals_total',
    help: 'Requests refused by access control: unauthenticated (401), forbidden (403), too many failures (429), identity provider away (503)',
    labelNames: ['status'],
    registers: [deps.metricsRegistry],
  });
  const refuse = (status: number, code: string, message: string): VigieError => {
    refusals.inc({ status: String(status) });
    return new VigieError(code, message, { statusCode: status });
  };
  app.addHook('onClose', async () => sessions.stop());
  app.decorateRequest('liveSession', function (this: FastifyRequest, close: () => void): () => void {
    return this.identity ? sessions.open(this.identity, close) : () => {};
  });

  app.decorateRequest('identity', null);
  app.decorateRequest('auditTarget', null);
  app.decorateRequest('deviceScope', function (this: FastifyRequest): Promise<DeviceScope> {
    if (!this.identity) return Promise.resolve(restrictedNothing);
    if (this.identity.domains === 'all') return Promise.resolve(UNRESTRICTED);
    return scopes.forDomains(this.identity.domains);
  });

  app.addHook('onRequest', async (req, reply) => {
    if (isPublic(req, deps.metricsAccess)) return;
    // A CORS preflight never carries credentials (Fetch standard, "CORS-preflight request"); it
    // reads nothing: @fastify/cors answers it, or no route does.
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) return;
    const wait = limiter.blockedFor(req.ip);
    if (wait > 0) {
      reply.header('retry-after', String(Math.ceil(wait / 1000)));
      throw refuse(429, 'VIGIE_ERR_AUTH_RATE_LIMITED', 'too many failed authentications from this address; try again later');
    }
    const secret = credentialsOf(req.headers.authorization);
    if (!secret) {
      challenge(reply, req);
      throw refuse(401, 'VIGIE_ERR_UNAUTHENTICATED', 'authentication required: send Authorization: Bearer <API token or OpenID Connect access token>');
    }
    let identity: Identity | null = null;
    let refusal: { status: 401 | 403 | 503; reason: string } = { status: 401, reason: 'unknown, expired or revoked token' };
    if (deps.oidc && looksLikeJwt(secret)) {
      const out = await deps.oidc.verify(secret);
      if (out.ok) identity = out.identity;
      else refusal = out;
    } else {
      identity = await verifyApiToken(deps.pool, secret);
    }
    if (!identity) {
      if (refusal.status === 401) {
        limiter.fail(req.ip);
        challenge(reply, req, 'invalid_token');
        throw refuse(401, 'VIGIE_ERR_UNAUTHENTICATED', `invalid credentials: ${refusal.reason}`);
      }
      if (refusal.status === 503) throw refuse(503, 'VIGIE_ERR_IDP_UNAVAILABLE', `cannot check the token: ${refusal.reason}`);
      throw refuse(403, 'VIGIE_ERR_FORBIDDEN', refusal.reason);
    }
    req.identity = identity;
    if (identity.tokenId) touch.touch(identity.tokenId);
    const access = requiredAccess(req);
    if (!roleAllows(identity.role, access)) {
      throw refuse(403, 'VIGIE_ERR_FORBIDDEN', `role ${identity.role} may not do this (needs ${access} access)`);
    }
  });

  // Recorded before the answer leaves, so a client that saw its write succeed finds it audited.
  app.addHook('onSend', async (req, reply, payload) => {
    if (READ_METHODS.has(req.method)) return payload;
    const id = req.identity;
    // An anonymous write without credentials changed nothing and names nobody: refused, not logged.
    if (!id && !req.headers.authorization) return payload;
    const params = (req.params && typeof req.params === 'object' ? req.params : {}) as Record<string, unknown>;
    const body = req.body as Record<string, unknown> | null | undefined;
    const bodyId = body && typeof body === 'object' && !Buffer.isBuffer(body) && (typeof body.id === 'string' || typeof body.id === 'number') ? { id: body.id } : {};
    try {
      await recordAudit(deps.pool, {
        subject: id?.subject ?? null,
        role: id?.role ?? null,
        tokenId: id?.tokenId ?? null,
        action: `${req.method} ${req.routeOptions.url ?? pathOf(req)}`,
        target: { ...bodyId, ...params, ...(req.auditTarget ?? {}) },
        status: reply.statusCode,
        source: req.ip,
        userAgent: (req.headers['user-agent'] as string | undefined) ?? null,
      });
    } catch (err) {
      req.log.error({ err, action: `${req.method} ${req.routeOptions.url}` }, 'could not write the audit entry of a write');
    }
    return payload;
  });
  return { sessions };
}
