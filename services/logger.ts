/** Structured logs (pino). Secrets are redacted by path, never by hand at call sites. */
import pino, { type Logger } from 'pino';

export interface LoggerOptions {
  /**
   * One readable line per event (pino-pretty, in a worker thread) instead of JSON: for the demo
   * in a terminal. Production keeps JSON for the log pipeline.
   */
  pretty?: boolean;
  /** Write to stderr (CLI commands whose stdout is their answer). */
  stderr?: boolean;
}

/** Secrets by path: credentials, tokens, keys, connection strings, and the raw settings holding them. */
export const REDACT = [
  'password',
  '*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'adminToken',
  '*.adminToken',
  'databaseUrl',
  '*.databaseUrl',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-vigie-signature"]',
  ...['DATABASE_URL', 'MQTT_PASSWORD', 'VIGIE_ADMIN_TOKEN', 'VIGIE_ALERT_WEBHOOK_SECRET', 'VIGIE_INFLUX_TOKEN'].flatMap((k) => [k, `raw.${k}`, `*.raw.${k}`]),
  // The parsed Config (services/config.ts), logged whole or as `config`.
  ...['auth.adminToken', 'mqtt.password', 'alerting.webhook.secret', 'influx.token'].flatMap((k) => [k, `config.${k}`]),
  'config.databaseUrl',
];

export function createLogger(level: string, name = 'vigie', options: LoggerOptions = {}): Logger {
  const settings = {
    name,
    level,
    redact: { paths: REDACT, censor: '***' },
  };
  if (!options.pretty) return options.stderr ? pino(settings, pino.destination(2)) : pino(settings);
  return pino(
    settings,
    pino.transport({
      target: 'pino-pretty',
      options: {
        ignore: 'pid,hostname,name',
        hideObject: true,
        translateTime: 'SYS:HH:MM:ss',
        // The objects are hidden for a readable line, but never the reason something failed.
        messageFormat: '{msg}{if err.message}: {err.message}{end}{if reason}: {reason}{end}{if code} ({code}){end}',
      },
    }),
  );
}
