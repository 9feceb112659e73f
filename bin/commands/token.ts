/**
 * `vigie token create|list|revoke`: API tokens, straight in the database (DATABASE_URL or the
 * embedded one in VIGIE_DATA_DIR), whether or not Vigie is running. `create` prints the token
 * alone on the last line, once: only its hash is kept.
 */
import os from 'node:os';
import type { Command } from 'commander';
import { recordAudit } from '../../services/auth/audit.ts';
import { describeDomains, parseDomainWords, ROLES, type DomainScope, type Role } from '../../services/auth/identity.ts';
import { createToken, listTokens, revokeToken } from '../../services/auth/tokens.ts';
import { loadConfig } from '../../services/config.ts';
import { createLogger } from '../../services/logger.ts';
import { openDatabase, type CliDatabase } from './database.ts';

function fail(message: string, code = 2): never {
  process.stderr.write(`vigie token: ${message}\n`);
  process.exit(code);
}

const who = () => `cli:${os.userInfo().username}`;

async function withDatabase<T>(databaseUrl: string | undefined, work: (db: CliDatabase) => Promise<T>): Promise<T> {
  let config;
  try {
    config = loadConfig(process.env, databaseUrl ? { DATABASE_URL: databaseUrl } : {});
  } catch (err) {
    fail((err as Error).message);
  }
  // Progress of an embedded start goes to stderr, so stdout stays the command's answer.
  const logger = createLogger(process.env.VIGIE_LOG_LEVEL === 'debug' ? 'debug' : 'warn', 'vigie-token', { stderr: true });
  let db: CliDatabase;
  try {
    db = await openDatabase(config, logger);
  } catch (err) {
    fail(`cannot reach the database: ${(err as Error).message}`, 1);
  }
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}

/** `30d`, `12h`, `90m` or an ISO 8601 date-time. */
export function parseExpiry(text: string, now = Date.now()): Date | null {
  const m = /^(\d+)\s*([dhm])$/.exec(text.trim());
  if (m) return new Date(now + Number(m[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[m[2] as 'd' | 'h' | 'm']);
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? null : d;
}

interface CreateOptions {
  role: string;
  domain?: string[];
  route?: string[];
  building?: string[];
  name?: string;
  expires?: string;
  databaseUrl?: string;
}

export function registerToken(program: Command): void {
  const token = program.command('token').description('API tokens: create, list, revoke (works whether or not Vigie is running)');

  token
    .command('create')
    .description('Create an API token and print it (alone on the last line); it is shown this once only')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--domain <domains...>', 'roads and/or buildings (default: every domain)')
    .option('--route <routes...>', 'with --domain roads: only these routes (e.g. RD910)')
    .option('--building <buildings...>', 'with --domain buildings: only these buildings')
    .option('--name <text>', 'what the token is for (shown in listings and the audit log)', '')
    .option('--expires <when>', 'expiry: 30d, 12h or an ISO 8601 date-time (default: never)')
    .option('--database-url <url>', 'PostgreSQL URL (default DATABASE_URL, else the embedded database in VIGIE_DATA_DIR)')
    .action(async (o: CreateOptions) => {
      if (!(ROLES as readonly string[]).includes(o.role)) fail(`--role: one of ${ROLES.join(', ')}`);
      const words = [...(o.domain ?? [])];
      if (o.route?.length) {
        if (!words.includes('roads')) fail('--route needs --domain roads');
        words.splice(words.indexOf('roads'), 1, ...o.route.map((r) => `roads:${r}`));
      }
      if (o.building?.length) {
        if (!words.includes('buildings')) fail('--building needs --domain buildings');
        words.splice(words.indexOf('buildings'), 1, ...o.building.map((b) => `buildings:${b}`));
      }
      let domains: DomainScope = 'all';
      if (words.length) {
        const parsed = parseDomainWords(words);
        if (parsed !== 'all' && !Array.isArray(parsed)) fail(`--domain: ${parsed.error}`);
        domains = parsed;
      }
      let expiresAt: Date | undefined;
      if (o.expires) {
        const d = parseExpiry(o.expires);
        if (!d || d.getTime() <= Date.now()) fail('--expires: a future time, e.g. 30d, 12h or 2027-01-01T00:00:00Z');
        expiresAt = d;
      }
      await withDatabase(o.databaseUrl, async (db) => {
        const created = await createToken(db.pool, { name: o.name ?? '', role: o.role as Role, domains, expiresAt, createdBy: who() });
        await recordAudit(db.pool, { subject: who(), role: null, tokenId: null, action: 'token.create', target: { tokenId: created.view.id, role: created.view.role }, status: null, source: 'cli', userAgent: null });
        const v = created.view;
        process.stdout.write(
          [
            `token ${v.id} created: role ${v.role}, domains ${describeDomains(v.domains)}${v.name ? `, "${v.name}"` : ''}${v.expiresAt ? `, expires ${v.expiresAt}` : ''} (${db.where})`,
            'Shown once, keep it safe. Use it as: curl -H "Authorization: Bearer <token>" ...',
            created.token,
          ].join('\n') + '\n',
        );
      });
    });

  token
    .command('list')
    .description('List API tokens (never their secret)')
    .option('--all', 'include revoked and expired tokens')
    .option('--json', 'print JSON')
    .option('--database-url <url>', 'PostgreSQL URL (default DATABASE_URL, else the embedded database in VIGIE_DATA_DIR)')
    .action(async (o: { all?: boolean; json?: boolean; databaseUrl?: string }) => {
      await withDatabase(o.databaseUrl, async (db) => {
        const items = await listTokens(db.pool, { includeInactive: o.all });
        if (o.json) {
          process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
          return;
        }
        if (items.length === 0) process.stdout.write('no tokens\n');
        for (const t of items) {
          const state = t.revokedAt ? `revoked ${t.revokedAt}` : t.active ? 'active' : `expired ${t.expiresAt}`;
          process.stdout.write(
            `${t.id}\t${t.role}\t${describeDomains(t.domains)}\t${state}\tlast used ${t.lastUsedAt ?? 'never'}\t${t.expiresAt ? `expires ${t.expiresAt}` : 'no expiry'}\t${t.name}\n`,
          );
        }
      });
    });

  token
    .command('revoke')
    .description('Revoke an API token: it stops working at its next request')
    .argument('<id>', 'token id (from vigie token list)')
    .option('--database-url <url>', 'PostgreSQL URL (default DATABASE_URL, else the embedded database in VIGIE_DATA_DIR)')
    .action(async (id: string, o: { databaseUrl?: string }) => {
      const done = await withDatabase(o.databaseUrl, async (db) => {
        const ok = await revokeToken(db.pool, id, who());
        if (ok) await recordAudit(db.pool, { subject: who(), role: null, tokenId: null, action: 'token.revoke', target: { tokenId: id }, status: null, source: 'cli', userAgent: null });
        return ok;
      });
      if (!done) fail(`no active token ${id}`, 1);
      process.stdout.write(`token ${id} revoked\n`);
    });
}
