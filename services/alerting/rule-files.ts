/**
 * Reads the rules folder: every `*.yaml`, `*.yml` or `*.json` file holds `{ rules: [...] }`.
 * A file that does not validate stops the start-up with the file, path and reason, rather
 * than running with a rule silently missing.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ruleFileSchema, type Rule } from '../../schemas/alerting.ts';
import { VigieError } from '../errors.ts';

export interface FileRule {
  rule: Rule;
  /** Path relative to the rules folder. */
  origin: string;
}

export function parseRuleFile(text: string, name: string): Rule[] {
  let parsed: unknown;
  try {
    parsed = name.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new VigieError('VIGIE_ERR_RULE_FILE', `${name}: ${(err as Error).message}`, { cause: err });
  }
  const result = ruleFileSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new VigieError('VIGIE_ERR_RULE_FILE', `${name}: ${issue.path.join('.')}: ${issue.message}`);
  }
  return result.data.rules;
}

export function loadRuleFiles(dir: string): FileRule[] {
  if (!existsSync(dir)) return [];
  const out: FileRule[] = [];
  const seen = new Map<string, string>();
  for (const name of readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f)).sort()) {
    const rules = parseRuleFile(readFileSync(path.join(dir, name), 'utf8'), name);
    for (const rule of rules) {
      const prior = seen.get(rule.id);
      if (prior) throw new VigieError('VIGIE_ERR_RULE_FILE', `${name}: rule id ${rule.id} is already defined in ${prior}`);
      seen.set(rule.id, name);
      out.push({ rule, origin: name });
    }
  }
  return out;
}
