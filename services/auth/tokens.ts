/**
 * API tokens: `vgt_<id>_<secret>`, the secret 32 random bytes (256 bits). Only the SHA-256 of
 * the whole token is stored: with that much entropy a fast hash is enough (no dictionary to
 * guess from) and lets every request be checked with one indexed lookup. The token is shown
 * once, at creation. Expiry and revocation take effect at the next request: nothing is cached.
 */
import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { domainGrantSchema, roleSchema, type DomainScope, type Identity, type Role } from './identity.ts';
import { z } from 'zod';

const TOKEN_RE = /^vgt_([a-z0-9]{10})_([A-Za-z0-9_-]{43})$/;
/** Id of the token that VIGIE_ADMIN_TOKEN stands for (any string of 16+ characters may be used). */
export const INITIAL_ADMIN_ID = 'initial-admin';

export function hashSecret(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export function newTokenString(): { id: string; token: string } {
  const id = randomBytes(8).toString('hex').slice(0, 10);
  return { id, token: `vgt_${id}_${randomBytes(32).toString('base64url')}` };
}

/** Looks like one of ours (for error messages and log hygiene, not for trust). */
export function isTokenShaped(s: string): boolean {
  return TOKEN_RE.test(s);
}

export interface TokenView {
  id: string;
  name: string;
  role: Role;
  domains: DomainScope;
  createdAt: string;
  createdBy: string;
  expiresAt: string | null;
  revokedAt: string | null;
  revokedBy: string | null;
  lastUsedAt: string | null;
  active: boolean;
}

const domainsColumn = z.array(domainGrantSchema).nullable();

function toView(r: Record<string, unknown>, now = Date.now()): TokenView {
  const iso = (v: unknown) => (v ? (v as Date).toISOString() : null);
  const expiresAt = r.expires_at as Date | null;
  return {
    id: r.id as string,
    name: r.name as string,
    role: roleSchema.parse(r.role),
    domains: domainsColumn.parse(r.domains) ?? 'all',
    createdAt: (r.created_at as Date).toISOString(),
    createdBy: r.created_by as string,
    expiresAt: iso(expiresAt),
    revokedAt: iso(r.revoked_at),
    revokedBy: (r.revoked_by as string | null) ?? null,
    lastUsedAt: iso(r.last_used_at),
    active: !r.revoked_at && (!expiresAt || expiresAt.getTime() > now),
  };
}

export interface NewToken {
  name: string;
  role: Role;
  domains: DomainScope;
  expiresAt?: Date;
  createdBy: string;
}

export async function createToken(db: pg.Pool | pg.PoolClient, t: NewToken): Promise<{ token: string; view: TokenView }> {
  const { id, token } = newTokenString();
  const { rows } = await db.query(
    `insert into api_tokens (id, name, role, domains, secret_sha256, created_by, expires_at)
     values ($1, $2, $3, $4, $5, $6, $7) returning *`,
    [id, t.name, t.role, t.domains === 'all' ? null : JSON.stringify(t.domains), hashSecret(token), t.createdBy, t.expiresAt ?? null],
  );
  return { token, view: toView(rows[0]) };
}

export async function listTokens(db: pg.Pool | pg.PoolClient, opts: { includeInactive?: boolean } = {}): Promise<TokenView[]> {
  const { rows } = await db.query(
    `select * from api_tokens ${opts.includeInactive ? '' : 'where revoked_at is null and (expires_at is null or expires_at > now())'} order by created_at, id`,
  );
  return rows.map((r) => toView(r));
}

export async function getToken(db: pg.Pool | pg.PoolClient, id: string): Promise<TokenView | null> {
  const { rows } = await db.query('select * from api_tokens where id = $1', [id]);
  return rows[0] ? toView(rows[0]) : null;
}

/** Revokes at once; false when there is no such token or it was already revoked. */
export async function revokeToken(db: pg.Pool | pg.PoolClient, id: string, by: string): Promise<boolean> {
  const { rowCount } = await db.query('update api_tokens set revoked_at = now(), revoked_by = $2 where id = $1 and revoked_at is null', [id, by]);
  return (rowCount ?? 0) > 0;
}

/** Whether anyone can sign in with a token (an active one exists). */
export async function hasActiveTokens(db: pg.Pool | pg.PoolClient): Promise<boolean> {
  const { rowCount } = await db.query('select 1 from api_tokens where revoked_at is null and (expires_at is null or expires_at > now()) limit 1');
  return (rowCount ?? 0) > 0;
}

/**
 * VIGIE_ADMIN_TOKEN (as InfluxDB's initial admin token): the given value becomes a valid admin
 * token, stored hashed under a fixed id. Changing the value replaces it; a revoked one comes
 * back only if the value changes (revoking it is a decision an operator must be able to keep).
 * Returns whether the row changed.
 */
export async function provisionAdminToken(db: pg.Pool | pg.PoolClient, value: string): Promise<boolean> {
  const digest = hashSecret(value);
  const { rowCount } = await db.query(
    `insert into api_tokens (id, name, role, domains, secret_sha256, created_by)
     values ($1, 'VIGIE_ADMIN_TOKEN', 'admin', null, $2, 'system')
     on conflict (id) do update set secret_sha256 = excluded.secret_sha256, revoked_at = null, revoked_by = null, expires_at = null,
       role = 'admin', domains = null, created_at = now()
     where api_tokens.secret_sha256 <> excluded.secret_sha256`,
    [INITIAL_ADMIN_ID, digest],
  );
  return (rowCount ?? 0) > 0;
}

/**
 * Last use is recorded at most once per `touchMs` per token and process: a busy dashboard
 * polling every second costs one UPDATE a minute, not one per request.
 */
export class TokenTouch {
  private readonly last = new Map<string, number>();
  constructor(
    private readonly pool: pg.Pool,
    private readonly touchMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}
  touch(id: string, now = Date.now()): void {
    const prev = this.last.get(id);
    if (prev !== undefined && now - prev < this.touchMs) return;
    this.last.set(id, now);
    if (this.last.size > 100_000) this.last.clear();
    this.pool.query('update api_tokens set last_used_at = now() where id = $1', [id]).catch(this.onError);
  }
}

/**
 * The identity an API token stands for, or null (unknown, revoked, expired, malformed). Also
 * used by the MQTT broker, where a client gives an API token as its password.
 */
export async function verifyApiToken(pool: pg.Pool, secret: string): Promise<Identity | null> {
  if (typeof secret !== 'string' || secret.length < 16 || secret.length > 512) return null;
  const { rows } = await pool.query(
    `select id, name, role, domains, expires_at from api_tokens
      where secret_sha256 = $1 and revoked_at is null and (expires_at is null or expires_at > now())`,
    [hashSecret(secret)],
  );
  const r = rows[0];
  if (!r) return null;
  const role = roleSchema.safeParse(r.role);
  const domains = domainsColumn.safeParse(r.domains);
  if (!role.success || !domains.success) return null;
  return {
    subject: `token:${r.id}`,
    role: role.data,
    domains: domains.data ?? 'all',
    tokenId: r.id,
    name: r.name,
    via: 'token',
    ...(r.expires_at ? { expiresAt: (r.expires_at as Date).getTime() } : {}),
  };
}
