/** Structured logs (pino). Secrets are redacted by path, never by hand at call sites. */
import pino, { type Logger } from 'pino';

export interface LoggerOptions {
  /**
   * One readable line per event (pino-pretty, in a worker thread) instead of JSON: for the demo
   * in a terminal. Production keeps JSON for the log pipeline.
   */
  pretty?: boolean;
  /** Log to stderr: for command-line tools whose stdout is their result. */
  stderr?: boolean;
}

export function createLogger(level: string, name = 'vigie', options: LoggerOptions = {}): Logger {
  const settings = {
    name,
    level,
    redact: { paths: ['password', '*.password', 'databaseUrl', 'headers.authorization', 'req.headers.authorization'], censor: '***' },
  };
  if (options.stderr) return pino(settings, pino.destination(2));
  if (!options.pretty) return pino(settings);
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
