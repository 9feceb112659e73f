/**
 * `vigie token create|list|revoke` as a user runs them: a child process with the same settings
 * as `vigie start`, against an external DATABASE_URL, and against the embedded database of
 * VIGIE_DATA_DIR both before Vigie ever ran and while it runs.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import t from 'tap';
import { verifyApiToken } from '../../services/auth/tokens.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { startTestPlatform } from '../helpers/platform.ts';

function vigie(args: string[], env: Record<string, string | undefined>): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'DATABASE_URL' && !k.startsWith('VIGIE_')));
  return new Promise((resolve) =>
    execFile(process.execPath, ['bin/vigie.js', 'token', ...args], { env: { ...clean, ...env }, timeout: 180_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}
const lastLine = (s: string) => s.trimEnd().split('\n').pop()!;

t.test('with DATABASE_URL, Vigie not running', async (t) => {
  const db = await createTestDatabase();
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  t.teardown(async () => {
    await pool.end();
    await db.drop();
  });
  const env = { DATABASE_URL: db.url };
  const made = await vigie(['create', '--role', 'operator', '--domain', 'roads', '--name', 'astreinte PC routes'], env);
  t.equal(made.code, 0, made.stderr);
  const token = lastLine(made.stdout);
  t.match(token, /^vgt_[a-z0-9]{10}_[A-Za-z0-9_-]{43}$/, 'the token alone on the last line');
  const identity = await verifyApiToken(pool, token);
  t.match(identity, { role: 'operator', domains: [{ domain: 'roads' }], name: 'astreinte PC routes', via: 'token' });

  const narrow = await vigie(['create', '--role', 'viewer', '--domain', 'buildings', '--building', 'clg-moulin', '--expires', '30d'], env);
  t.match(await verifyApiToken(pool, lastLine(narrow.stdout)), { domains: [{ domain: 'buildings', buildings: ['clg-moulin'] }] });

  const list = await vigie(['list'], env);
  t.equal(list.code, 0);
  t.match(list.stdout, new RegExp(`${identity!.tokenId}\\toperator\\troads\\tactive`));
  t.notOk(list.stdout.includes(token.slice(15)), 'no secret in the listing');

  const revoked = await vigie(['revoke', identity!.tokenId!], env);
  t.equal(revoked.code, 0, revoked.stderr);
  t.equal(await verifyApiToken(pool, token), null, 'revoked');
  t.equal((await vigie(['revoke', identity!.tokenId!], env)).code, 1, 'revoking twice fails');
  const listAll = await vigie(['list', '--all', '--json'], env);
  t.ok((JSON.parse(listAll.stdout) as Array<{ id: string; revokedBy: string }>).find((x) => x.id === identity!.tokenId)?.revokedBy.startsWith('cli:'));

  const audit = await pool.query(`select action, subject, source from audit_log order by id`);
  t.same(audit.rows.map((r) => r.action), ['token.create', 'token.create', 'token.revoke']);
  t.ok(audit.rows.every((r) => r.subject.startsWith('cli:') && r.source === 'cli'));
  t.notOk(JSON.stringify(audit.rows).includes(token), 'no secret in the audit log');

  t.equal((await vigie(['create', '--role', 'superuser'], env)).code, 2, 'unknown role refused');
  t.equal((await vigie(['create', '--role', 'viewer', '--domain', 'motorways'], env)).code, 2, 'unknown domain refused');
});

t.test('embedded database: before the first start, then beside a running Vigie', async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vigie-token-'));
  chmodSync(dataDir, 0o755);
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const env = { VIGIE_DATA_DIR: dataDir };

  // Nothing runs yet: the command starts the embedded PostgreSQL for itself, then stops it.
  const first = await vigie(['create', '--role', 'admin', '--name', 'first'], env);
  t.equal(first.code, 0, first.stderr);
  const adminToken = lastLine(first.stdout);

  const tp = await startTestPlatform({ embedded: true, dataDir });
  t.teardown(() => tp.stop());
  t.same((await tp.get<{ role: string }>('/api/v1/whoami', adminToken)).body.role, 'admin', 'the token made before the first start works');

  // Vigie runs: the command reaches its embedded database (port recorded in the data dir).
  const second = await vigie(['create', '--role', 'viewer', '--domain', 'buildings'], env);
  t.equal(second.code, 0, second.stderr);
  t.match(second.stdout, /running Vigie/);
  const viewer = lastLine(second.stdout);
  t.same((await tp.get<{ domains: unknown }>('/api/v1/whoami', viewer)).body.domains, [{ domain: 'buildings' }], 'usable at once');

  const id = (await tp.get<{ tokenId: string }>('/api/v1/whoami', adminToken)).body.tokenId;
  t.equal((await vigie(['revoke', id], env)).code, 0);
  t.equal((await tp.get('/api/v1/whoami', adminToken)).status, 401, 'revoked from the CLI: refused at the next request');
});
