/**
 * Names shared by every process of a deployment: advisory lock keys (two-int form, so they
 * never meet the migration lock, which uses the bigint form) and LISTEN/NOTIFY channels.
 */

/** First half of every Vigie cluster lock key: "VIGI". */
export const LOCK_CLASS = 0x56494749;

/** Transaction-level locks that order appends (seq = commit order). */
export const APPEND_LOCK = { commitLog: 1, alertStream: 2 } as const;

/**
 * Sealed months (services/timeseries/sealing.ts): every writer of observation rows holds
 * (LOCK_CLASS, SEAL_LOCK) in shared mode for its transaction; sealing a month takes it
 * exclusively. Also hard-coded in services/store/migrations/repeatable/000_observation_views.sql.
 */
export const SEAL_LOCK = 10;
/**
 * First half of the transaction-level lock on one series (second half: its id) taken before
 * inserting late rows into observation_values_sealed, which has no unique key: "VSER".
 */
export const SEALED_SERIES_CLASS = 0x56534552;

/** The singleton roles, each held by one process at a time through a session-level advisory lock. */
export const SINGLETONS = ['alerting', 'notify', 'sparkplug', 'maintenance', 'influx'] as const;
export type Singleton = (typeof SINGLETONS)[number];

/** Lock key (second half) of a singleton: 100 + its index; never reorder SINGLETONS. */
export function singletonKey(role: Singleton): number {
  return 100 + SINGLETONS.indexOf(role);
}

export const CHANNEL = {
  /** Payload: the commit_log seq just committed. */
  commit: 'vigie_commit',
  /** Payload: the alert_stream id just committed. */
  alertEvent: 'vigie_alert_event',
  /** A notification entered the outbox. */
  outbox: 'vigie_outbox',
  /** Rules or silences changed through the API of some process: `rules` or `silences`. */
  alertingConfig: 'vigie_alerting_config',
} as const;
