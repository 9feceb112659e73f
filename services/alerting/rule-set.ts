/**
 * The rules the engine runs: file rules from VIGIE_RULES_DIR (synced into alert_rules at
 * start) plus API rules, compiled. API changes go through here so the table and the engine
 * agree.
 */
import type { Logger } from 'pino';
import type pg from 'pg';
import type { Rule } from '../../schemas/alerting.ts';
import { compileRule, type CompiledRule } from './compiled-rule.ts';
import { loadRuleFiles } from './rule-files.ts';
import { deleteApiRule, insertApiRule, listRules, syncFileRules, updateApiRule } from './store/rules.ts';

export async function syncAndLoadRules(pool: pg.Pool, rulesDir: string, logger: Logger): Promise<CompiledRule[]> {
  const files = loadRuleFiles(rulesDir);
  const { replacedApiRules } = await syncFileRules(pool, files);
  if (replacedApiRules.length > 0) logger.warn({ rules: replacedApiRules }, 'rule files replace API rules with the same id');
  logger.info({ fileRules: files.length, dir: rulesDir }, 'alert rules loaded');
  return loadCompiled(pool);
}

export async function loadCompiled(pool: pg.Pool): Promise<CompiledRule[]> {
  return (await listRules(pool)).map((r) => compileRule(r.rule, r.source, r.origin));
}

export { deleteApiRule, insertApiRule, updateApiRule };
export type { Rule };
