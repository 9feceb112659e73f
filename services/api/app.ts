/**
 * The Fastify application, built and returned without listening (fastify/demo's habit): tests
 * call `app.inject()`, `services/platform.ts` alone listens. Routes start from their zod
 * schemas, so validation, types and the OpenAPI document come from one source. Access control
 * (services/auth/http.ts), security headers, CORS and rate limits are installed on the root
 * before any route, so module routes and the documentation go through them too.
 */
import { readFileSync } from 'node:fs';
import fastifyCors from '@fastify/cors';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type pg from 'pg';
import type client from 'prom-client';
import { installAccessControl, type MetricsAccess } from '../auth/http.ts';
import type { OidcVerifier } from '../auth/oidc.ts';
import type { Config } from '../config.ts';
import { authRoutes } from '../auth/routes.ts';
import { VigieError } from '../errors.ts';
import { installErrorHandling } from './errors.ts';
import { installInputGuard } from './input-guard.ts';
import { catalogueRoutes } from './routes/catalogue.ts';
import { deadLetterRoutes } from './routes/dead-letters.ts';
import { deviceRoutes } from './routes/devices.ts';
import { healthRoutes } from './routes/health.ts';
import { observationRoutes } from './routes/observations.ts';

export interface ApiDeps {
  pool: pg.Pool;
  logger: Logger;
  metricsRegistry: client.Registry;
  /** Readiness of the parts the API depends on. */
  readiness: () => Promise<Record<string, boolean>>;
  openapi: boolean;
  /** Extra route plugins registered by later capabilities (alerting, NGSI, ...). */
  plugins?: Array<(app: FastifyInstance) => Promise<void>>;
  /** The HTTP slice of the configuration (services/config.ts); listening is the platform's. */
  http: Omit<Config['http'], 'host' | 'port'>;
  auth: { oidc?: OidcVerifier; metricsAccess: MetricsAccess; tokenTouchMs: number; recheckMs: number };
}

function readTls(tls: { certFile: string; keyFile: string }): { cert: Buffer; key: Buffer } {
  try {
    return { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) };
  } catch (err) {
    throw new VigieError('VIGIE_ERR_TLS', `VIGIE_HTTP_TLS_CERT/VIGIE_HTTP_TLS_KEY: cannot read ${(err as NodeJS.ErrnoException).path ?? 'the files'}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
}

export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    // Request lines are left to the reverse proxy; the API logs warnings and errors only.
    loggerInstance: deps.logger.child({ component: 'api' }, { level: 'warn' }) as unknown as FastifyBaseLogger,
    bodyLimit: deps.http.bodyLimit,
    requestTimeout: deps.http.requestTimeoutMs,
    trustProxy: deps.http.trustProxy,
    ...(deps.http.tls ? { https: readTls(deps.http.tls) } : {}),
  }) as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app);
  installInputGuard(app);
  const { sessions } = installAccessControl(app, {
    pool: deps.pool,
    logger: deps.logger.child({ component: 'access' }),
    oidc: deps.auth.oidc,
    metricsAccess: deps.auth.metricsAccess,
    tokenTouchMs: deps.auth.tokenTouchMs,
    authFailureLimit: deps.http.authFailureLimit,
    authFailureWindowMs: deps.http.authFailureWindowMs,
    recheckMs: deps.auth.recheckMs,
    metricsRegistry: deps.metricsRegistry,
  });
  // HSTS and upgrade-insecure-requests only mean something over TLS: on plain HTTP (loopback,
  // or TLS ended at a proxy) the latter would send the documentation's own requests to https.
  const tls = Boolean(deps.http.tls);
  await app.register(fastifyHelmet, {
    global: true,
    hsts: tls ? { maxAge: 15552000 } : false,
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: tls ? [] : null } },
  });
  if (deps.http.corsOrigins.length > 0) {
    await app.register(fastifyCors, {
      origin: deps.http.corsOrigins,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'last-event-id'],
      exposedHeaders: ['x-vigie-estimated-rows', 'retry-after'],
      maxAge: 600,
    });
  }
  if (deps.http.rateLimitPerMinute > 0) {
    await app.register(fastifyRateLimit, {
      global: true,
      // After authentication, so the budget is the identity's, wherever it calls from.
      hook: 'preHandler',
      max: deps.http.rateLimitPerMinute,
      timeWindow: 60_000,
      keyGenerator: (req) => req.identity?.subject ?? `ip:${req.ip}`,
      allowList: (req) => req.url === '/health' || req.url === '/ready',
      errorResponseBuilder: (_req, ctx) => Object.assign(new Error(`rate limit: ${ctx.max} requests per minute; retry in ${Math.ceil(ctx.ttl / 1000)} s`), { statusCode: 429, code: 'VIGIE_ERR_RATE_LIMITED' }),
    });
  }
  if (deps.openapi) {
    await app.register(fastifySwagger, {
      openapi: {
        info: { title: 'Vigie API', description: 'Telemetry for connected departmental roads and public buildings. Every route but /health and /ready needs `Authorization: Bearer <token>` (an API token or an OpenID Connect access token).', version: '1' },
        components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'API token (vigie token create) or OpenID Connect access token' } } },
        security: [{ bearerAuth: [] }],
      },
      transform: jsonSchemaTransform,
    });
    await app.register(fastifySwaggerUi, {
      routePrefix: '/docs',
      staticCSP: true,
      transformStaticCSP: (header) => (tls ? header : header.replace(/\s*upgrade-insecure-requests;?/, '')),
      uiConfig: { persistAuthorization: false },
    });
  }
  await app.register(healthRoutes, deps);
  await app.register(catalogueRoutes, { prefix: '/api/v1' });
  await app.register(deviceRoutes, { prefix: '/api/v1', pool: deps.pool });
  await app.register(observationRoutes, { prefix: '/api/v1', pool: deps.pool });
  await app.register(deadLetterRoutes, { prefix: '/api/v1', pool: deps.pool });
  await app.register(authRoutes, { prefix: '/api/v1', pool: deps.pool, sessions });
  for (const plugin of deps.plugins ?? []) await app.register(plugin);
  return app;
}
