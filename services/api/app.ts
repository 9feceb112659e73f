/**
 * The Fastify application, built and returned without listening (fastify/demo's habit): tests
 * call `app.inject()`, `services/platform.ts` alone listens. Routes start from their zod
 * schemas, so validation, types and the OpenAPI document come from one source.
 */
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type pg from 'pg';
import type client from 'prom-client';
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
}

export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    // Request lines are left to the reverse proxy; the API logs warnings and errors only.
    loggerInstance: deps.logger.child({ component: 'api' }, { level: 'warn' }) as unknown as FastifyBaseLogger,
    bodyLimit: 10 * 1024 * 1024,
  }) as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app);
  installInputGuard(app);
  if (deps.openapi) {
    await app.register(fastifySwagger, {
      openapi: {
        info: { title: 'Vigie API', description: 'Telemetry for connected departmental roads and public buildings', version: '1' },
      },
      transform: jsonSchemaTransform,
    });
    await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  }
  await app.register(healthRoutes, deps);
  await app.register(catalogueRoutes, { prefix: '/api/v1' });
  await app.register(deviceRoutes, { prefix: '/api/v1', pool: deps.pool });
  await app.register(observationRoutes, { prefix: '/api/v1', pool: deps.pool });
  await app.register(deadLetterRoutes, { prefix: '/api/v1', pool: deps.pool });
  for (const plugin of deps.plugins ?? []) await app.register(plugin);
  return app;
}
