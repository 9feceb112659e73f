/**
 * Alerting as a platform module. Every process serves the alert routes and the live event
 * stream; the evaluator (`alerting` role) and notification delivery (`notify` role) are
 * singletons run by the process holding their lease (services/cluster/leases.ts):
 *  - the evaluator reads committed observations from the durable commit feed, from its stored
 *    position, woken by NOTIFY; rules and silences changed through any process reach it by
 *    NOTIFY, rule files by a folder watch;
 *  - delivery drains the notification outbox the evaluator fills in its own transactions.
 */
import { CHANNEL } from '../cluster/keys.ts';
import { notify } from '../cluster/bus.ts';
import { claimPosition, FeedConsumer } from '../cluster/feed-consumer.ts';
import { FeedHub } from '../cluster/feed-hub.ts';
import type { ModuleFactory, PlatformModule } from '../platform-module.ts';
import { AlertEngine, systemClock, type AlertEventType, type Clock } from './engine.ts';
import { createAlertingInstruments } from './instruments.ts';
import { mqttTopicProblem, OutboundPolicy } from './notify/outbound.ts';
import { OutboxWorker } from './notify/outbox.ts';
import { alertRoutes } from './routes/alerts.ts';
import { ruleRoutes } from './routes/rules.ts';
import { silenceRoutes } from './routes/silences.ts';
import { streamRoutes } from './routes/stream.ts';
import { watchRules } from './rule-watch.ts';
import { loadCompiled, syncAndLoadRules } from './rule-set.ts';
import { registerRuntime, type AlertingRuntime } from './runtime.ts';
import type { DeviceInfo } from './scope.ts';
import type { AlertView } from './store/alerts.ts';
import { appendAlertStream, lastAlertStreamId, readAlertStream } from './store/outbox.ts';

export const alertingModule: ModuleFactory = async (ctx): Promise<PlatformModule> => {
  const cfg = ctx.config.alerting;
  if (!cfg.enabled) return { name: 'alerting' };
  const logger = ctx.logger.child({ component: 'alerting' });
  const { pool, bus } = ctx;
  const deviceInfo = (id: string): DeviceInfo => ctx.registry.get(id) ?? { id };
  if (!cfg.webhook.secret) logger.warn('VIGIE_ALERT_WEBHOOK_SECRET is not set: webhook deliveries are not signed');
  const policy = new OutboundPolicy(cfg.webhook.allow, cfg.webhook.url ? [cfg.webhook.url] : []);
  for (const problem of policy.invalid) logger.warn({ problem }, 'VIGIE_ALERT_WEBHOOK_ALLOW entry ignored');
  const ingestRoutes = ctx.config.formats.routes;
  const instruments = createAlertingInstruments(ctx.telemetry.registry);
  const newEngine = (clock: Clock = systemClock) =>
    new AlertEngine({ instruments, pool, logger, deviceInfo, clock, tickMs: cfg.tickMs, maxLagMs: cfg.maxLagMs });

  let engine = newEngine();
  let evaluating = false;
  let feed: FeedConsumer | null = null;
  let stopEvaluator: Array<() => void> = [];

  const hub = new FeedHub<{ seq: number; event: Awaited<ReturnType<typeof readAlertStream>>[number]['event'] }>({
    bus,
    channel: CHANNEL.alertEvent,
    logger,
    read: (after, limit) => readAlertStream(pool, after, limit),
    last: () => lastAlertStreamId(pool),
    pageSize: 500,
  });
  await hub.start();

  const signal = (what: 'rules' | 'silences') => notify(pool, CHANNEL.alertingConfig, `${what}:${ctx.member}`);

  const evaluator = {
    async start() {
      const position = await claimPosition(pool, 'alerting');
      // A fresh engine per tenure after the first (its memory is rebuilt from the store).
      if (engine.finished) engine = newEngine();
      engine.attach(position);
      await engine.start(await syncAndLoadRules(pool, cfg.rulesDir, logger));
      feed = new FeedConsumer({
        pool,
        bus,
        logger,
        position,
        maxEntries: 200,
        maxObservations: 20_000,
        pollMs: cfg.feedPollMs,
        handle: (entries) => engine.consume(entries),
      });
      await feed.start();
      stopEvaluator.push(
        await bus.on(CHANNEL.alertingConfig, (payload) => {
          const [what, from] = payload.split(':', 2);
          if (from === ctx.member) return; // this process already applied it
          if (what === 'rules') void loadCompiled(pool, logger).then((rules) => engine.reloadRules(rules));
          else if (what === 'silences') void engine.refreshSilences();
        }),
      );
      stopEvaluator.push(watchRules(cfg.rulesDir, cfg.rulesWatchMs, logger, async () => engine.reloadRules(await syncAndLoadRules(pool, cfg.rulesDir, logger))));
      evaluating = true;
      logger.info({ position: position.seq, epoch: position.epoch }, 'alert evaluator running');
    },
    async stop() {
      evaluating = false;
      for (const s of stopEvaluator) s();
      stopEvaluator = [];
      await feed?.stop();
      feed = null;
      await engine.stop();
    },
  };

  const outbox = new OutboxWorker({
    pool,
    logger,
    webhook: { ...cfg.webhook, defaultUrl: cfg.webhook.url, policy },
    mqttTopicRoot: cfg.mqttTopic,
    ingestRoutes,
    publish: (topic, payload, retain) => ctx.ingest.source.publish(topic, payload, { qos: 1, retain }),
    pollMs: cfg.outboxPollMs,
  });
  let stopOutboxWake: (() => void) | null = null;
  const delivery = {
    async start() {
      stopOutboxWake = await bus.on(CHANNEL.outbox, () => outbox.wake());
      outbox.start();
    },
    async stop() {
      stopOutboxWake?.();
      await outbox.stop(ctx.config.shutdownTimeoutMs);
    },
  };

  const runtime: AlertingRuntime = {
    get engine() {
      return engine;
    },
    get evaluating() {
      return evaluating;
    },
    pool,
    hub,
    deviceInfo,
    now: () => engine.now(),
    async reloadRules() {
      if (evaluating) await engine.reloadRules(await loadCompiled(pool, logger));
      await signal('rules');
    },
    async refreshSilences() {
      if (evaluating) await engine.refreshSilences();
      await signal('silences');
    },
    async publishEvent(type: AlertEventType, alert: AlertView) {
      const e = engine.event(type, alert);
      await appendAlertStream(pool, [e]);
      engine.emit('alert', e);
    },
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
    async caughtUp(timeoutMs) {
      if (!feed) throw new Error('this process does not run the alert evaluator');
      await feed.caughtUp(timeoutMs);
      await engine.idle();
    },
  };
  registerRuntime(pool, runtime);
  return {
    name: 'alerting',
    routes: async (app) => {
      await app.register(alertRoutes, { prefix: '/api/v1', runtime });
      await app.register(ruleRoutes, { prefix: '/api/v1', runtime });
      await app.register(silenceRoutes, { prefix: '/api/v1', runtime });
      await app.register(streamRoutes, { prefix: '/api/v1', runtime, sse: ctx.sse });
    },
    singletons: { alerting: evaluator, notify: delivery },
    stop: async () => {
      hub.stop();
    },
  };
};
