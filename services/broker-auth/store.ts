/** Broker credentials in PostgreSQL (migration 041_device_credentials.sql): created, listed, revoked. */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { accountNameSchema, gatewayScopesSchema, type AccountKind, type GatewayScopes } from '../../schemas/index.ts';
import { VigieError } from '../errors.ts';
import { generateSecret, hashSecret, mosquittoHash } from './password.ts';

/** Usernames Vigie keeps for its own account (services/broker-auth/authenticator.ts). */
export const RESERVED_USERNAMES = new Set(['vigie']);

export interface CredentialRow {
  id: string;
  kind: AccountKind;
  username: string;
  scopes: GatewayScopes | null;
  label: string | null;
  createdAt: string;
  revokedAt: string | null;
}

export interface StoredCredential extends CredentialRow {
  secretHash: string;
  mosquittoHash: string;
}

export interface NewCredential {
  kind: AccountKind;
  username: string;
  scopes?: GatewayScopes;
  label?: string;
}

function toRow(r: Record<string, unknown>): StoredCredential {
  return {
    id: r.id as string,
    kind: r.kind as AccountKind,
    username: r.username as string,
    scopes: (r.scopes as GatewayScopes | null) ?? null,
    label: (r.label as string | null) ?? null,
    createdAt: (r.created_at as Date).toISOString(),
    revokedAt: r.revoked_at ? (r.revoked_at as Date).toISOString() : null,
    secretHash: r.secret_hash as string,
    mosquittoHash: r.mosquitto_hash as string,
  };
}

const publicRow = ({ secretHash: _s, mosquittoHash: _m, ...row }: StoredCredential): CredentialRow => row;

/** Creates a credential; the secret is returned once and never stored. */
export async function createCredential(pool: pg.Pool, c: NewCredential): Promise<{ credential: CredentialRow; secret: string }> {
  const name = accountNameSchema.safeParse(c.username);
  if (!name.success) throw new VigieError('VIGIE_ERR_CREDENTIAL', `"${c.username}" cannot be a broker username: ${name.error.issues[0]!.message}`);
  if (RESERVED_USERNAMES.has(c.username)) throw new VigieError('VIGIE_ERR_CREDENTIAL', `"${c.username}" is Vigie's own account name`);
  let scopes: GatewayScopes | null = null;
  if (c.kind === 'gateway') {
    scopes = gatewayScopesSchema.parse(c.scopes ?? {});
    if (scopes.tts.length + scopes.chirpstack.length + scopes.sparkplug.length === 0 && !scopes.ngsi) {
      throw new VigieError('VIGIE_ERR_CREDENTIAL', `gateway ${c.username} has no scope: give --tts, --chirpstack, --sparkplug or --ngsi, or declare it in the registry's gateways`);
    }
  }
  const secret = generateSecret();
  const [secretHash, mqHash] = await Promise.all([hashSecret(secret), mosquittoHash(secret)]);
  const id = `bc_${randomBytes(6).toString('hex')}`;
  const { rows } = await pool.query(
    `insert into broker_credentials (id, kind, username, scopes, secret_hash, mosquitto_hash, label)
     values ($1, $2, $3, $4, $5, $6, $7) returning *`,
    [id, c.kind, c.username, scopes === null ? null : JSON.stringify(scopes), secretHash, mqHash, c.label ?? null],
  );
  return { credential: publicRow(toRow(rows[0])), secret };
}

export async function listCredentials(pool: pg.Pool, filter: { kind?: AccountKind; username?: string; includeRevoked?: boolean } = {}): Promise<CredentialRow[]> {
  const { rows } = await pool.query(
    `select * from broker_credentials
      where ($1::text is null or kind = $1) and ($2::text is null or username = $2) and ($3 or revoked_at is null)
      order by username, created_at`,
    [filter.kind ?? null, filter.username ?? null, filter.includeRevoked ?? false],
  );
  return rows.map((r) => publicRow(toRow(r)));
}

/** Revokes one credential by id, or every active credential of a username; returns the revoked ids. */
export async function revokeCredentials(pool: pg.Pool, target: { id?: string; kind?: AccountKind; username?: string; label?: string }): Promise<string[]> {
  if (!target.id && !target.username && !target.label) throw new VigieError('VIGIE_ERR_CREDENTIAL', 'revoke needs a credential id, a username or a label');
  const { rows } = await pool.query<{ id: string }>(
    `update broker_credentials set revoked_at = now()
      where revoked_at is null and ($1::text is null or id = $1) and ($2::text is null or kind = $2)
        and ($3::text is null or username = $3) and ($4::text is null or label = $4)
      returning id`,
    [target.id ?? null, target.kind ?? null, target.username ?? null, target.label ?? null],
  );
  return rows.map((r) => r.id);
}

/** Active credentials of a username, with their hashes (the broker's check). */
export async function activeCredentials(pool: pg.Pool, username: string): Promise<StoredCredential[]> {
  const { rows } = await pool.query(`select * from broker_credentials where username = $1 and revoked_at is null order by created_at desc`, [username]);
  return rows.map(toRow);
}

/** Every active credential (Mosquitto's password and ACL files). */
export async function allActiveCredentials(pool: pg.Pool): Promise<StoredCredential[]> {
  const { rows } = await pool.query(`select * from broker_credentials where revoked_at is null order by username, created_at desc`);
  return rows.map(toRow);
}

/** Which of these credential ids are still active (revocation sweep of connected clients). */
export async function stillActive(pool: pg.Pool, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const { rows } = await pool.query<{ id: string }>(`select id from broker_credentials where revoked_at is null and id = any($1::text[])`, [ids]);
  return new Set(rows.map((r) => r.id));
}

/** Whether any account could log in (the embedded broker's default listen address depends on it). */
export async function anyActiveCredential(pool: pg.Pool): Promise<boolean> {
  const { rowCount } = await pool.query(`select 1 from broker_credentials where revoked_at is null limit 1`);
  return (rowCount ?? 0) > 0;
}
