/**
 * Every SQL query of every dashboard runs against a migrated database of each storage mode
 * (monthly partitions and Vigie rollups, or the TimescaleDB hypertable and its continuous
 * aggregates), with Grafana's macros expanded the way its PostgreSQL datasource does: a
 * renamed column breaks this test, not a dashboard in production.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import t, { type Test } from 'tap';
import { loadConfig } from '../services/config.ts';
import { migrate } from '../services/store/migrate.ts';
import { createPool } from '../services/store/pool.ts';
import { setupStorage } from '../services/timeseries/storage.ts';
import { createTestDatabase, forEachStorageMode, type StorageMode } from '../test/helpers/database.ts';

const dir = path.dirname(fileURLToPath(import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

function expandMacros(sql: string): string {
  return sql
    .replace(/\$__timeGroupAlias\(([^,]+),\s*\$__interval\)/g, "date_bin('5 minutes', $1, timestamptz '2000-01-01') as time")
    .replace(/\$__timeFilter\(([^)]+)\)/g, "$1 between now() - interval '1 day' and now()")
    .replace(/\$device/g, "'rws-1', 'tc-1'");
}

t.ok(files.length > 0, 'dashboards exist');
await forEachStorageMode(t, suite);

async function suite(t: Test, mode: StorageMode): Promise<void> {
  const db = await createTestDatabase('dash', mode);
  const pool = createPool(db.url, 2);
  t.teardown(async () => {
    await pool.end();
    await db.drop();
  });
  const logger = pino({ level: 'silent' });
  const config = loadConfig({ DATABASE_URL: db.url, ...db.env });
  let timescale: boolean | undefined;
  await migrate(pool, { logger, after: async (c) => void (timescale = await setupStorage(c, config, logger)) });
  t.equal(timescale, mode === 'timescale', 'storage set up in the pinned mode');
  await pool.query(`insert into devices (id, kind, domain, registered) values ('rws-1', 'road-weather-station', 'roads', true)`);
  await pool.query(`insert into observations (device_id, metric, channel, time, received_at, value) values ('rws-1', 'surface_temperature', '', now() - interval '1 hour', now(), -1.5)`);

  for (const file of files) {
    t.test(file, async (t) => {
      const dashboard = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as {
        uid: string;
        panels: Array<{ title: string; targets?: Array<{ rawSql?: string }> }>;
        templating?: { list: Array<{ query?: string }> };
      };
      t.ok(dashboard.uid, 'has a stable uid');
      for (const v of dashboard.templating?.list ?? []) if (v.query) await pool.query(v.query);
      for (const panel of dashboard.panels) {
        for (const target of panel.targets ?? []) {
          if (!target.rawSql) continue;
          const { rows } = await pool.query(expandMacros(target.rawSql));
          t.ok(Array.isArray(rows), `${panel.title}: query runs`);
        }
      }
      const surface = dashboard.panels.find((p) => p.title.startsWith('Road surface temperature'));
      if (surface?.targets?.[0]?.rawSql) {
        const { rows } = await pool.query(expandMacros(surface.targets[0].rawSql));
        t.equal(rows[0]?.value, -1.5, 'the surface temperature panel returns the stored value');
      }
    });
  }
}
