/** Persisted evaluation state per (rule, device, channel): loaded at start, written after each batch. */
import type pg from 'pg';
import type { KeyState, Phase } from '../core.ts';

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const ms = (d: unknown) => (d ? (d as Date).getTime() : null);

export async function loadStates(pool: pg.Pool): Promise<KeyState[]> {
  const { rows } = await pool.query(`select * from alert_rule_state where phase <> 'idle' or streak is not null`);
  return rows.map((r) => ({
    ruleId: r.rule_id,
    deviceId: r.device_id,
    channel: r.channel,
    phase: r.phase as Phase,
    since: ms(r.since),
    firedAt: ms(r.fired_at),
    lastEval: ms(r.last_eval),
    lastTrue: ms(r.last_true),
    lastValue: r.last_value,
    streak: r.streak,
    alertId: r.alert_id === null ? null : String(r.alert_id),
  }));
}

export async function saveStates(db: pg.PoolClient, states: KeyState[]): Promise<void> {
  if (states.length === 0) return;
  await db.query(
    `insert into alert_rule_state (rule_id, device_id, channel, phase, since, fired_at, last_eval, last_true, last_value, streak, alert_id, updated_at)
     select rule_id, device_id, channel, phase, since, fired_at, last_eval, last_true, last_value, streak, alert_id, now()
       from jsonb_to_recordset($1::jsonb) as s(rule_id text, device_id text, channel text, phase text, since timestamptz, fired_at timestamptz,
            last_eval timestamptz, last_true timestamptz, last_value float8, streak jsonb, alert_id bigint)
     on conflict (rule_id, device_id, channel) do update set phase = excluded.phase, since = excluded.since, fired_at = excluded.fired_at,
       last_eval = excluded.last_eval, last_true = excluded.last_true, last_value = excluded.last_value, streak = excluded.streak,
       alert_id = excluded.alert_id, updated_at = now()`,
    [
      JSON.stringify(
        states.map((s) => ({
          rule_id: s.ruleId,
          device_id: s.deviceId,
          channel: s.channel,
          phase: s.phase,
          since: iso(s.since),
          fired_at: iso(s.firedAt),
          last_eval: iso(s.lastEval),
          last_true: iso(s.lastTrue),
          last_value: s.lastValue,
          streak: s.streak,
          alert_id: s.alertId,
        })),
      ),
    ],
  );
}

export async function deleteRuleStates(pool: pg.Pool, ruleId: string): Promise<void> {
  await pool.query(`delete from alert_rule_state where rule_id = $1`, [ruleId]);
}
