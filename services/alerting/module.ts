/**
 * Alerting as a platform module: rules from files and the database, the engine fed by every
 * committed batch, a timer for what only time reveals, notifiers and the API routes.
 */
import type { ModuleFactory, PlatformModule } from '../platform-module.ts';
import { AlertEngine, systemClock } from './engine.ts';
import { createAlertingInstruments } from './instruments.ts';
import { Dispatcher } from './notify/dispatcher.ts';
import { mqttTopicProblem, OutboundPolicy } from './notify/outbound.ts';
import { alertRoutes } from './routes/alerts.ts';
import { ruleRoutes } from './routes/rules.ts';
import { silenceRoutes } from './routes/silences.ts';
import { streamRoutes } from './routes/stream.ts';
import { loadCompiled, syncAndLoadRules } from './rule-set.ts';
import { registerRuntime, type AlertingRuntime } from './runtime.ts';
import type { DeviceInfo } from './scope.ts';
import { recordDelivery } from './store/alerts.ts';

export const alertingModule: ModuleFactory = async (ctx): Promise<PlatformModule> => {
  const cfg = ctx.config.alerting;
  if (!cfg.enabled) return { name: 'alerting' };
  const logger = ctx.logger.child({ component: 'alerting' });
  const deviceInfo = (id: string): DeviceInfo => ctx.registry.get(id) ?? { id };
  if (!cfg.webhook.secret) logger.warn('VIGIE_ALERT_WEBHOOK_SECRET is not set: webhook deliveries are not signed');
  let engine: AlertEngine;
  const policy = new OutboundPolicy(cfg.webhook.allow, cfg.webhook.url ? [cfg.webhook.url] : []);
  for (const problem of policy.invalid) logger.warn({ problem }, 'VIGIE_ALERT_WEBHOOK_ALLOW entry ignored');
  const ingestRoutes = ctx.config.formats.routes;
  const dispatcher = new Dispatcher({
    logger,
    webhook: { ...cfg.webhook, defaultUrl: cfg.webhook.url, policy },
    mqttTopicRoot: cfg.mqttTopic,
    ingestRoutes,
    publish: (topic, payload, retain) => ctx.ingest.source.publish(topic, payload, { qos: 1, retain }),
    record: (d) => recordDelivery(ctx.pool, d),
    now: () => engine.now(),
  });
  engine = new AlertEngine({ instruments: createAlertingInstruments(ctx.telemetry.registry), pool: ctx.pool, logger, deviceInfo, dispatcher, clock: systemClock, tickMs: cfg.tickMs, maxLagMs: cfg.maxLagMs });
  await engine.start(await syncAndLoadRules(ctx.pool, cfg.rulesDir, logger));
  const runtime: AlertingRuntime = {
    engine,
    pool: ctx.pool,
    deviceInfo,
    reloadRules: async () => engine.reloadRules(await loadCompiled(ctx.pool, ctx.logger)),
    checkTargets: async (rule) => {
      for (const target of [...rule.notify, ...(rule.escalate?.notify ?? [])]) {
        if (target.type === 'webhook' && target.url) {
          const verdict = await policy.check(target.url);
          if (!verdict.ok) return `webhook ${target.url}: ${verdict.reason}`;
        }
        if (target.type === 'mqtt' && target.topic) {
          const problem = mqttTopicProblem(target.topic, cfg.mqttTopic, ingestRoutes);
          if (problem) return `mqtt ${target.topic}: ${problem}`;
        }
      }
      return null;
    },
  };
  registerRuntime(ctx.pool, runtime);
  return {
    name: 'alerting',
    routes: async (app) => {
      await app.register(alertRoutes, { prefix: '/api/v1', runtime });
      await app.register(ruleRoutes, { prefix: '/api/v1', runtime });
      await app.register(silenceRoutes, { prefix: '/api/v1', runtime });
      await app.register(streamRoutes, { prefix: '/api/v1', runtime, sse: ctx.sse });
    },
    onCommitted: (batch) => engine.enqueue(batch.observations),
    stop: async () => {
      await engine.stop();
      await dispatcher.stop(ctx.config.shutdownTimeoutMs);
    },
  };
};
