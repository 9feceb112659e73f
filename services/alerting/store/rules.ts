/** Rule rows: file rules (re-synced at start) and API rules, with where each came from. */
import type pg from 'pg';
import { VigieError } from '../../errors.ts';
import { withTransaction } from '../../store/transaction.ts';
import { ruleSchema, type Rule, type RuleSource } from '../../../schemas/alerting.ts';

export interface RuleRow {
  rule: Rule;
  source: RuleSource;
  origin: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A stored rule that no longer validates (written before a bound existed, or by hand). */
export interface UnloadableRule {
  id: string;
  source: RuleSource;
  reason: string;
}

function toRow(r: Record<string, unknown>): RuleRow | UnloadableRule {
  const parsed = ruleSchema.safeParse(r.definition);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { id: r.id as string, source: r.source as RuleSource, reason: issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid' };
  }
  return {
    rule: parsed.data,
    source: r.source as RuleSource,
    origin: (r.origin as string) ?? null,
    createdAt: (r.created_at as Date).toISOString(),
    updatedAt: (r.updated_at as Date).toISOString(),
  };
}

const loadable = (r: RuleRow | UnloadableRule): r is RuleRow => 'rule' in r;

/** Every stored rule, split into those that load and those that do not (named, with the reason). */
export async function readRules(db: pg.Pool | pg.PoolClient): Promise<{ rules: RuleRow[]; unloadable: UnloadableRule[] }> {
  const { rows } = await db.query(`select id, source, origin, definition, created_at, updated_at from alert_rules order by id`);
  const all = rows.map(toRow);
  return { rules: all.filter(loadable), unloadable: all.filter((r): r is UnloadableRule => !loadable(r)) };
}

/** Where a stored rule comes from, whether or not it still loads (so a bad one can be replaced or deleted). */
export async function ruleSource(db: pg.Pool, id: string): Promise<RuleSource | null> {
  const { rows } = await db.query<{ source: RuleSource }>(`select source from alert_rules where id = $1`, [id]);
  return rows[0]?.source ?? null;
}

export async function listRules(db: pg.Pool | pg.PoolClient): Promise<RuleRow[]> {
  return (await readRules(db)).rules;
}

export async function getRule(db: pg.Pool, id: string): Promise<RuleRow | null> {
  const { rows } = await db.query(`select id, source, origin, definition, created_at, updated_at from alert_rules where id = $1`, [id]);
  if (!rows[0]) return null;
  const row = toRow(rows[0]);
  if (!loadable(row)) throw new VigieError('VIGIE_ERR_RULE_UNLOADABLE', `rule ${id} is stored but no longer valid (${row.reason}): replace it (PUT) or delete it`, { statusCode: 409 });
  return row;
}

/**
 * Makes the file rules in the table match the rules folder. A file rule wins over an API
 * rule with the same id (the folder is versioned with the deployment); the caller logs it.
 */
export async function syncFileRules(pool: pg.Pool, rules: Array<{ rule: Rule; origin: string }>): Promise<{ replacedApiRules: string[] }> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ id: string }>(`select id from alert_rules where source = 'api' and id = any($1::text[])`, [rules.map((r) => r.rule.id)]);
    for (const r of rules) {
      await client.query(
        `insert into alert_rules (id, source, origin, definition) values ($1, 'file', $2, $3)
         on conflict (id) do update set source = 'file', origin = excluded.origin, definition = excluded.definition,
           updated_at = case when alert_rules.definition = excluded.definition and alert_rules.source = 'file' then alert_rules.updated_at else now() end`,
        [r.rule.id, r.origin, JSON.stringify(r.rule)],
      );
    }
    await client.query(`delete from alert_rules where source = 'file' and not (id = any($1::text[]))`, [rules.map((r) => r.rule.id)]);
    return { replacedApiRules: rows.map((r) => r.id) };
  });
}

/** Inserts an API rule; false when the id is taken. */
export async function insertApiRule(pool: pg.Pool, rule: Rule): Promise<boolean> {
  const { rowCount } = await pool.query(`insert into alert_rules (id, source, definition) values ($1, 'api', $2) on conflict (id) do nothing`, [rule.id, JSON.stringify(rule)]);
  return rowCount === 1;
}

export async function updateApiRule(pool: pg.Pool, rule: Rule): Promise<void> {
  await pool.query(`update alert_rules set definition = $2, updated_at = now() where id = $1 and source = 'api'`, [rule.id, JSON.stringify(rule)]);
}

export async function deleteApiRule(pool: pg.Pool, id: string): Promise<void> {
  await pool.query(`delete from alert_rules where id = $1 and source = 'api'`, [id]);
}
