/**
 * The embedded broker with its guard, as the composition root starts it: Vigie's own account
 * (a secret that lives only in this process, handed to the ingest), the authenticator, the
 * refusal counters, and the listen address ("no identity configured, loopback only").
 */
import type { Logger } from 'pino';
import type pg from 'pg';
import type client from 'prom-client';
import type { Config } from '../config.ts';
import { startEmbeddedBroker, type EmbeddedBrokerHandle } from '../embedded/broker.ts';
import { BrokerAuthenticator, type TokenVerifier } from './authenticator.ts';
import { createBrokerInstruments } from './instruments.ts';
import { generateSecret } from './password.ts';
import { anyActiveCredential } from './store.ts';

/** Vigie's own account on the embedded broker (ingest, alert events, Sparkplug commands). */
const SERVICE_USERNAME = 'vigie';

export interface GuardedBroker {
  broker: EmbeddedBrokerHandle;
  /** The ingest's login. */
  login: { username: string; password: string };
}

export interface BrokerTokens {
  /** API tokens given as the MQTT password (admin or integration role: every ingest topic). */
  verify: TokenVerifier;
  /** Whether a token exists that could log in (counts as an identity for the listen address). */
  exist?: () => Promise<boolean>;
}

export async function startGuardedBroker(config: Config, pool: pg.Pool, metrics: client.Registry, logger: Logger, tokens?: BrokerTokens): Promise<GuardedBroker> {
  const service = { username: SERVICE_USERNAME, secret: generateSecret() };
  const ba = config.brokerAuth;
  const auth = new BrokerAuthenticator({
    pool,
    acl: { routes: config.formats.routes, prefix: config.mqtt.topicPrefix, alertRoot: config.alerting.mqttTopic },
    mode: ba.mode,
    service,
    serviceClientId: config.mqtt.clientId,
    tokenVerifier: tokens?.verify,
    cacheMs: ba.cacheMs,
  });
  // No identity configured, loopback only: until a device can log in (an active broker
  // credential, a CA for device certificates, an API token) the broker is not offered to the
  // network.
  const identities = ba.mode === 'on' && (Boolean(ba.tls?.caFile) || (await anyActiveCredential(pool)) || Boolean(await tokens?.exist?.()));
  const host = ba.host ?? (identities ? '0.0.0.0' : '127.0.0.1');
  if (!ba.host && !identities) logger.info({ host }, 'no broker account can log in yet: the embedded broker listens on loopback only (create credentials and restart, or set VIGIE_MQTT_HOST)');
  const broker = await startEmbeddedBroker({
    port: config.embedded.mqttPort,
    dataDir: config.dataDir,
    logger,
    maxPayloadBytes: config.ingest.maxPayloadBytes,
    ingestClientId: config.mqtt.clientId,
    host,
    auth,
    instruments: createBrokerInstruments(metrics),
    sweepMs: Math.max(ba.cacheMs, 1000),
    tls: ba.tls ? { ...ba.tls, host: ba.tls.host ?? host } : undefined,
  });
  return { broker, login: { username: service.username, password: service.secret } };
}
