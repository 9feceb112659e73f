/**
 * The rules the engine runs: file rules from VIGIE_RULES_DIR (synced into alert_rules at
 * start) plus API rules, compiled from the table, so the engine runs what the API shows.
 */
import type { Logger } from 'pino';
import type pg from 'pg';
import { compileRule, type CompiledRule } from './compiled-rule.ts';
import { loadRuleFiles } from './rule-files.ts';
import { listRules, syncFileRules } from './store/rules.ts';

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
