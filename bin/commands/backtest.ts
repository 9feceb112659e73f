/**
 * `vigie backtest`: runs one rule over the stored history and prints when it would have
 * fired and resolved. The rule comes from the database (`--rule <id>`), or from a rule file
 * (`--file rules.yaml [--rule <id>]`) not deployed yet. Read-only: nothing is written or sent.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Rule } from '../../schemas/alerting.ts';
import { formatTimeline, runBacktest } from '../../services/alerting/backtest.ts';
import { parseRuleFile } from '../../services/alerting/rule-files.ts';
import { getRule } from '../../services/alerting/store/rules.ts';
import { isoTimeProblem } from '../../services/api/query-params.ts';
import { loadConfig } from '../../services/config.ts';
import { openDatabase } from '../../services/embedded/open-database.ts';
import { createLogger } from '../../services/logger.ts';
import { loadRegistry } from '../../services/registry.ts';
import { createPool } from '../../services/store/pool.ts';

interface Options {
  rule?: string;
  file?: string;
  from: string;
  to?: string;
  device?: string[];
  json?: boolean;
  databaseUrl?: string;
}

function fail(message: string): never {
  process.stderr.write(`vigie backtest: ${message}\n`);
  process.exit(2);
}

function parseTime(name: string, s: string): Date {
  const problem = isoTimeProblem(s);
  if (problem) fail(`--${name}: ${problem}, got "${s}"`);
  return new Date(s);
}

export function registerBacktest(program: Command): void {
  program
    .command('backtest')
    .description('Run a rule over stored history and print a timeline of when it would have fired and resolved (nobody is notified)')
    .option('--rule <id>', 'rule id (from the database, or picked from --file)')
    .option('--file <path>', 'rule file (YAML or JSON, { rules: [...] }) with a rule not deployed yet')
    .requiredOption('--from <time>', 'start of the range (ISO 8601; required)')
    .option('--to <time>', 'end of the range (ISO 8601, default now)')
    .option('--device <ids...>', 'only these devices')
    .option('--json', 'print the result as JSON instead of a timeline')
    .option('--database-url <url>', 'PostgreSQL URL (default DATABASE_URL, else the embedded database of VIGIE_DATA_DIR)')
    .action(async (o: Options) => {
      const config = loadConfig(process.env, o.databaseUrl ? { DATABASE_URL: o.databaseUrl } : {});
      if (!o.rule && !o.file) fail('pass --rule <id> or --file <path>');
      const from = parseTime('from', o.from);
      const to = o.to ? parseTime('to', o.to) : new Date();
      if (!(to > from)) fail('--to must be after --from');
      const registry = loadRegistry(config.registryPath);
      let database;
      try {
        database = await openDatabase(config, createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, 'vigie', { stderr: true }), 'vigie backtest');
      } catch (err) {
        fail((err as Error).message);
      }
      const pool = createPool(database.url, 2);
      try {
        let rule: Rule | undefined;
        if (o.file) {
          const rules = parseRuleFile(readFileSync(o.file, 'utf8'), o.file);
          rule = o.rule ? rules.find((r) => r.id === o.rule) : rules[0];
          if (!rule) fail(`${o.file} has no rule ${o.rule ?? ''}`.trim());
          if (!o.rule && rules.length > 1) fail(`${o.file} holds ${rules.length} rules: pick one with --rule`);
        } else {
          const row = await getRule(pool, o.rule!);
          if (!row) fail(`no rule ${o.rule} in the database (start Vigie once to sync the rules folder, or use --file)`);
          rule = row.rule;
        }
        const result = await runBacktest(pool, (id) => registry.get(id) ?? { id }, { rule, from, to, devices: o.device });
        process.stdout.write(o.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatTimeline(result)}\n`);
      } finally {
        await pool.end();
        await database.close();
      }
    });
}
