/** Structured logs (pino). Secrets are redacted by path, never by hand at call sites. */
import pino, { type Logger } from 'pino';

export function createLogger(level: string, name = 'vigie'): Logger {
  return pino({
    name,
    level,
    redact: { paths: ['password', '*.password', 'databaseUrl', 'headers.authorization', 'req.headers.authorization'], censor: '***' },
  });
}
