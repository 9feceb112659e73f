/**
 * The rules the engine runs: file rules from VIGIE_RULES_DIR (synced into alert_rules at
 * start) plus API rules, compiled from the table, so the engine runs what the API shows.
 */
import type { Logger } from 'pino';
import type pg from 'pg';
import { compileRule, type CompiledRule } from './compiled-rule.ts';
import { loadRuleFiles } from './rule-files.ts';
import { readRules, syncFileRules } from './store/rules.ts';

export async function syncAndLoadRules(pool: pg.Pool, rulesDir: string, logger: Logger): Promise<CompiledRule[]> {
  const files = loadRuleFiles(rulesDir);
  const { replacedApiRules } = await syncFileRules(pool, files);
  if (replacedApiRules.length > 0) logger.warn({ rules: replacedApiRules }, 'rule files replace API rules with the same id');
  logger.info({ fileRules: files.length, dir: rulesDir }, 'alert rules loaded');
  return loadCompiled(pool, logger);
}

/**
 * The stored rules compiled for the engine. A rule that no longer loads is skipped and named
 * in the log: one bad rule must not stop start-up or the evaluation of every other rule.
 */
export async function loadCompiled(pool: pg.Pool, logger: Logger): Promise<CompiledRule[]> {
  const { rules, unloadable } = await readRules(pool);
  for (const u of unloadable) logger.error({ rule: u.id, source: u.source, reason: u.reason }, 'alert rule skipped: it does not validate');
  const compiled: CompiledRule[] = [];
  for (const r of rules) {
    try {
      compiled.push(compileRule(r.rule, r.source, r.origin));
    } catch (err) {
      logger.error({ rule: r.rule.id, err }, 'alert rule skipped: it cannot be compiled');
    }
  }
  return compiled;
}
