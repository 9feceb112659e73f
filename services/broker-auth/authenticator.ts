/**
 * Who is connecting: Vigie's own account (an in-memory secret handed to the ingest at start),
 * a stored credential (device, gateway, integration), a client certificate (device id from
 * the CN), an API token (admin or integration role, given as the password with any username)
 * through an injected verifier, or, with VIGIE_MQTT_AUTH=off, an anonymous client. Results
 * are cached briefly (keyed by a hash of username and password, never the password itself),
 * so a reconnect storm of a thousand devices costs one scrypt per device, not per attempt.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type pg from 'pg';
import { accountNameSchema, type GatewayScopes } from '../../schemas/index.ts';
import { grantsFor, vigieOnlyFilters, type Account, type AclContext, type Grants } from './acl.ts';
import { verifySecret } from './password.ts';
import { activeCredentials, stillActive } from './store.ts';

/**
 * Checks an API token given as the MQTT password; resolves the token's role and subject, or
 * null. The HTTP side's `verifyApiToken(pool, secret)` fits once wrapped (platform wiring).
 */
export type TokenVerifier = (password: string) => Promise<{ role: string; subject: string } | null>;

/** API token roles that may publish under every ingest topic. */
const TOKEN_ROLES_WITH_INGEST = new Set(['admin', 'integration']);

export interface Identity {
  account: Account;
  grants: Grants;
  /** Set for stored credentials: revoking it disconnects the client. */
  credentialId?: string;
  /** Set for API tokens: asks the verifier again (a revoked or expired token disconnects the client). */
  recheck?: () => Promise<boolean>;
  via: 'service' | 'password' | 'certificate' | 'token' | 'anonymous';
}

export interface BrokerAuthOptions {
  pool: pg.Pool;
  acl: AclContext;
  /** `off`: anonymous clients connect as an integration (loopback only, see services/config.ts). */
  mode: 'on' | 'off';
  /** Vigie's own account. */
  service: { username: string; secret: string };
  /** The ingest's client id (VIGIE_MQTT_CLIENT_ID): with every `vigie-…` id, Vigie's alone. */
  serviceClientId: string;
  tokenVerifier?: TokenVerifier;
  cacheMs: number;
  cacheMax?: number;
}

interface CacheEntry {
  expires: number;
  result: Promise<Identity | null>;
}

export class BrokerAuthenticator {
  readonly reserved: string[];
  private readonly cache = new Map<string, CacheEntry>();
  private readonly serviceSecret: Buffer;

  constructor(private readonly o: BrokerAuthOptions) {
    this.reserved = vigieOnlyFilters(o.acl);
    this.serviceSecret = createHash('sha256').update(o.service.secret).digest();
  }

  get mode(): 'on' | 'off' {
    return this.o.mode;
  }

  /** Client ids only Vigie's account may use: a client taking over the ingest's session would receive, and acknowledge, the telemetry. */
  isReservedClientId(clientId: string): boolean {
    return clientId === this.o.serviceClientId || clientId === 'vigie' || clientId.startsWith('vigie-');
  }

  private identity(account: Account, via: Identity['via'], credentialId?: string): Identity {
    return { account, grants: grantsFor(account, this.o.acl), via, ...(credentialId ? { credentialId } : {}) };
  }

  /** Username/password (or token), client certificate CN, or anonymous; null when refused. */
  async authenticate(username: string | undefined, password: Buffer | undefined, certificateCn?: string): Promise<Identity | null> {
    if (password !== undefined && password.length > 0) {
      const user = username ?? '';
      if (user === this.o.service.username) {
        const given = createHash('sha256').update(password).digest();
        return timingSafeEqual(given, this.serviceSecret) ? this.identity({ kind: 'vigie', name: user }, 'service') : null;
      }
      return this.cached(user, password);
    }
    if (certificateCn !== undefined) {
      // A certificate signed by VIGIE_MQTT_TLS_CA names a device: its CN is the device id.
      if (!accountNameSchema.safeParse(certificateCn).success) return null;
      return this.identity({ kind: 'device', name: certificateCn }, 'certificate');
    }
    if (this.o.mode === 'off') return this.identity({ kind: 'integration', name: 'anonymous' }, 'anonymous');
    return null;
  }

  private cached(username: string, password: Buffer): Promise<Identity | null> {
    const key = createHash('sha256').update(username).update('\0').update(password).digest('base64');
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && hit.expires > now) return hit.result;
    const result = this.verify(username, password.toString('utf8'));
    // A failed lookup (database down) is not cached: the next attempt retries.
    result.catch(() => this.cache.delete(key));
    this.cache.set(key, { expires: now + this.o.cacheMs, result });
    const max = this.o.cacheMax ?? 10_000;
    if (this.cache.size > max) {
      for (const k of this.cache.keys()) {
        this.cache.delete(k);
        if (this.cache.size <= max) break;
      }
    }
    return result;
  }

  private async verify(username: string, secret: string): Promise<Identity | null> {
    if (accountNameSchema.safeParse(username).success) {
      for (const c of await activeCredentials(this.o.pool, username)) {
        if (await verifySecret(secret, c.secretHash)) {
          return this.identity({ kind: c.kind, name: c.username, ...(c.scopes ? { scopes: c.scopes as GatewayScopes } : {}) }, 'password', c.id);
        }
      }
    }
    const verifier = this.o.tokenVerifier;
    if (verifier) {
      const token = await verifier(secret);
      if (token && TOKEN_ROLES_WITH_INGEST.has(token.role)) {
        const name = token.subject.startsWith('token:') ? token.subject : `token:${token.subject}`;
        const recheck = async () => {
          const again = await verifier(secret);
          return again !== null && TOKEN_ROLES_WITH_INGEST.has(again.role);
        };
        return { ...this.identity({ kind: 'integration', name }, 'token'), recheck };
      }
    }
    return null;
  }

  /**
   * Drops cached results of revoked credentials and returns the revoked ids among `connected`
   * (the broker disconnects those clients). Run periodically.
   */
  async sweep(connected: string[]): Promise<Set<string>> {
    const now = Date.now();
    for (const [k, e] of this.cache) if (e.expires <= now) this.cache.delete(k);
    const cachedIds: string[] = [];
    const byId = new Map<string, string[]>();
    for (const [k, e] of this.cache) {
      const id = await e.result.then((i) => i?.credentialId).catch(() => undefined);
      if (!id) continue;
      cachedIds.push(id);
      byId.set(id, [...(byId.get(id) ?? []), k]);
    }
    for (const [k, e] of this.cache) {
      const identity = await e.result.catch(() => null);
      if (identity?.recheck && !(await identity.recheck().catch(() => true))) this.cache.delete(k);
    }
    const ids = [...new Set([...connected, ...cachedIds])];
    const active = await stillActive(this.o.pool, ids);
    const revoked = new Set(ids.filter((id) => !active.has(id)));
    for (const id of revoked) for (const k of byId.get(id) ?? []) this.cache.delete(k);
    return revoked;
  }
}
