/**
 * A server where timescaledb is installed but not in shared_preload_libraries (a package
 * installed before its postgresql.conf was edited): loading the extension there is a FATAL that
 * ends the session. Vigie must neither try it on a connection it cannot lose nor crash:
 * VIGIE_TIMESCALE=auto runs on plain PostgreSQL with a warning, `require` refuses to start
 * naming shared_preload_libraries.
 *
 * The machine's PostgreSQL (TEST_DATABASE_ADMIN_URL, 5432) is that server once the TimescaleDB
 * build is installed (`.ci/run` installs it); TEST_NOT_PRELOADED_URL names another one. The
 * test checks the situation first and fails if it is not there, rather than passing by luck. Its databases come from template0, so
 * nothing a server's template1 may carry (an event trigger refusing the extension, say)
 * stands between Vigie and the real FATAL.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import t from 'tap';
import { createExtensionIsolated, probeTimescale } from '../../services/store/timescale.ts';
import { startChildPlatform } from '../helpers/child-platform.ts';
import { createTestDatabase, NOT_PRELOADED_ADMIN_URL, timescaleSkipReason } from '../helpers/database.ts';
import { TEST_MQTT_URL } from '../helpers/platform.ts';

const admin = new pg.Client({ connectionString: NOT_PRELOADED_ADMIN_URL });
await admin.connect();
const { rows } = await admin.query<{ available: boolean; preload: string }>(
  `select exists (select 1 from pg_available_extensions where name = 'timescaledb') as available, current_setting('shared_preload_libraries') as preload`,
);
await admin.end();
const situation = rows[0]!;
const skip = situation.available ? false : timescaleSkipReason();

t.test('the machine PostgreSQL has timescaledb installed and not preloaded', { skip }, async (t) => {
  t.ok(situation.available, `timescaledb must be installed on ${new URL(NOT_PRELOADED_ADMIN_URL).host} (the TimescaleDB build installs it into PostgreSQL 15)`);
  t.notMatch(situation.preload, /timescaledb/, 'and not preloaded there');
  if (!situation.available || /timescaledb/.test(situation.preload)) return;

  const db = await createTestDatabase('nopreload', 'plain', { template: 'template0', adminUrl: NOT_PRELOADED_ADMIN_URL });
  t.teardown(() => db.drop());

  await t.test('the probe sees it without loading the library, with or without privileges', async (t) => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    t.same(await probeTimescale(c), { available: true, preloaded: false, installed: false }, 'as superuser');
    // shared_preload_libraries is unreadable for an ordinary role; the probe does not need it.
    const role = `vigie_np_${randomBytes(3).toString('hex')}`;
    await c.query(`create role ${role} login`);
    try {
      const url = new URL(db.url);
      url.username = role;
      const u = new pg.Client({ connectionString: url.toString() });
      await u.connect();
      await t.rejects(u.query(`select current_setting('shared_preload_libraries')`), { code: '42501' }, 'the setting itself is hidden from it');
      t.same(await probeTimescale(u), { available: true, preloaded: false, installed: false }, 'as an ordinary role');
      await u.end();
    } finally {
      await c.query(`drop role ${role}`);
      await c.end();
    }
  });

  await t.test('create extension there ends the session: the dedicated client reports it, the process lives on', async (t) => {
    const err = await createExtensionIsolated(db.url);
    t.ok(err, 'an error is returned');
    t.match(err?.message, /must be preloaded/, 'the FATAL of the library load');
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    t.same((await c.query(`select extname from pg_extension where extname = 'timescaledb'`)).rows, [], 'nothing was created');
    await c.end();
  });

  await t.test('VIGIE_TIMESCALE=auto: starts on plain PostgreSQL and says why', async (t) => {
    const child = await startChildPlatform({ DATABASE_URL: db.url, MQTT_URL: TEST_MQTT_URL, VIGIE_TIMESCALE: 'auto', VIGIE_TOPIC_PREFIX: `np${randomBytes(3).toString('hex')}/`, VIGIE_ALERTING: 'false' });
    try {
      t.equal((await fetch(`${child.url}/ready`)).status, 200);
      t.match(child.output(), /not preloaded \(shared_preload_libraries\): running on plain PostgreSQL/);
      t.match(child.output(), /"timescale":false/);
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      t.equal((await c.query(`select relkind from pg_class where relname = 'observation_values'`)).rows[0].relkind, 'p', 'observation_values is partitioned (plain path)');
      await c.end();
    } finally {
      child.child.kill('SIGTERM');
      t.equal(await child.exited, 0, 'and stops cleanly');
    }
  });

  await t.test('VIGIE_TIMESCALE=require: refuses to start, naming shared_preload_libraries', async (t) => {
    const other = await createTestDatabase('nopreload_req', 'plain', { template: 'template0', adminUrl: NOT_PRELOADED_ADMIN_URL });
    t.teardown(() => other.drop());
    await t.rejects(
      startChildPlatform({ DATABASE_URL: other.url, MQTT_URL: TEST_MQTT_URL, VIGIE_TIMESCALE: 'require', VIGIE_TOPIC_PREFIX: `np${randomBytes(3).toString('hex')}/`, VIGIE_ALERTING: 'false' }),
      /exited early \(code 1\)[\s\S]*VIGIE_ERR_TIMESCALE_NOT_PRELOADED[\s\S]*shared_preload_libraries/,
    );
  });
});
