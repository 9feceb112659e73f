/** Device rows: the registry file's devices plus every device heard from. */
import type pg from 'pg';
import { withTransaction } from './transaction.ts';
import type { Device } from '../../schemas/index.ts';

export interface DeviceRow {
  id: string;
  name: string | null;
  kind: string | null;
  domain: string | null;
  registered: boolean;
  position: { lat: number; lon: number } | null;
  site: string | null;
  road: unknown;
  building: unknown;
  profile: string | null;
  periodSeconds: number | null;
  tags: Record<string, string>;
  firstSeen: string | null;
  lastSeen: string | null;
  /** Presence from the wire format (Sparkplug B BIRTH/DEATH); null when it says nothing. */
  online: boolean | null;
  statusChangedAt: string | null;
  statusReason: string | null;
}

const COLUMNS = `id, name, kind, domain, registered, lat, lon, site, road, building, profile, period_seconds, tags, first_seen, last_seen, online, status_changed_at, status_reason`;

function toRow(r: Record<string, unknown>): DeviceRow {
  return {
    id: r.id as string,
    name: (r.name as string) ?? null,
    kind: (r.kind as string) ?? null,
    domain: (r.domain as string) ?? null,
    registered: r.registered as boolean,
    position: r.lat === null || r.lon === null ? null : { lat: r.lat as number, lon: r.lon as number },
    site: (r.site as string) ?? null,
    road: r.road ?? null,
    building: r.building ?? null,
    profile: (r.profile as string) ?? null,
    periodSeconds: (r.period_seconds as number) ?? null,
    tags: (r.tags as Record<string, string>) ?? {},
    firstSeen: r.first_seen ? (r.first_seen as Date).toISOString() : null,
    lastSeen: r.last_seen ? (r.last_seen as Date).toISOString() : null,
    online: (r.online as boolean | null) ?? null,
    statusChangedAt: r.status_changed_at ? (r.status_changed_at as Date).toISOString() : null,
    statusReason: (r.status_reason as string | null) ?? null,
  };
}

/** Makes the table agree with the registry file; devices dropped from it stay, unregistered. */
export async function syncRegistry(pool: pg.Pool, devices: Device[]): Promise<void> {
  return withTransaction(pool, async (client) => {
    await client.query(
      `insert into devices (id, name, kind, domain, registered, lat, lon, site, road, building, profile, period_seconds, tags, updated_at)
       select id, name, kind, domain, true, lat, lon, site, road, building, profile, period_seconds, tags, now()
         from jsonb_to_recordset($1::jsonb) as d(id text, name text, kind text, domain text, lat float8, lon float8,
              site text, road jsonb, building jsonb, profile text, period_seconds int, tags jsonb)
        order by id
       on conflict (id) do update set name = excluded.name, kind = excluded.kind, domain = excluded.domain,
         registered = true, lat = excluded.lat, lon = excluded.lon, site = excluded.site, road = excluded.road,
         building = excluded.building, profile = excluded.profile, period_seconds = excluded.period_seconds,
         tags = excluded.tags, updated_at = now()`,
      [
        JSON.stringify(
          devices.map((d) => ({
            id: d.id,
            name: d.name ?? null,
            kind: d.kind,
            domain: d.domain,
            lat: d.position?.lat ?? null,
            lon: d.position?.lon ?? null,
            site: d.site ?? null,
            road: d.road ?? null,
            building: d.building ?? null,
            profile: d.profile ?? null,
            period_seconds: d.periodSeconds ?? null,
            tags: d.tags,
          })),
        ),
      ],
    );
    await client.query(`update devices set registered = false, updated_at = now() where registered and not (id = any($1::text[]))`, [
      devices.map((d) => d.id),
    ]);
  });
}

export interface DeviceFilter {
  domain?: string;
  kind?: string;
  registered?: boolean;
  after?: string;
  /** Only these ids (domain scoping). */
  ids?: string[];
  limit: number;
}

export async function listDevices(pool: pg.Pool, f: DeviceFilter): Promise<DeviceRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, v: unknown) => {
    params.push(v);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (f.domain) add('domain = ?', f.domain);
  if (f.kind) add('kind = ?', f.kind);
  if (f.registered !== undefined) add('registered = ?', f.registered);
  if (f.after) add('id > ?', f.after);
  if (f.ids) add('id = any(?::text[])', f.ids);
  params.push(f.limit);
  const { rows } = await pool.query(
    `select ${COLUMNS} from devices ${where.length ? `where ${where.join(' and ')}` : ''} order by id limit $${params.length}`,
    params,
  );
  return rows.map(toRow);
}

export async function getDevice(pool: pg.Pool, id: string): Promise<DeviceRow | null> {
  const { rows } = await pool.query(`select ${COLUMNS} from devices where id = $1`, [id]);
  return rows[0] ? toRow(rows[0]) : null;
}
