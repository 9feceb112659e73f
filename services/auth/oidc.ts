/**
 * OpenID Connect bearer tokens (RFC 6750) from the département's identity provider (Keycloak,
 * usually). Signature against the issuer's JWKS (jose: a key id it does not know makes it
 * fetch the set again, so key rotation needs no restart), `iss`, `aud`, `exp`/`nbf` checked
 * (OpenID Connect Core 1.0, §3.1.3.7). Role and domains come from configurable claims:
 * Keycloak puts realm roles in `realm_access.roles` and client roles in
 * `resource_access.<client>.roles`.
 */
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { parseDomainWords, ROLE_RANK, ROLES, type Identity, type Role } from './identity.ts';

export interface OidcConfig {
  issuer: string;
  audience: string;
  /** Unset: from the issuer's discovery document (`/.well-known/openid-configuration`, jwks_uri). */
  jwksUrl?: string;
  rolesClaim: string;
  rolePrefix: string;
  domainsClaim: string;
  /** Grants when the token has no domains claim: empty refuses such users. */
  defaultDomains: string[];
  subjectClaim: string;
  /** Shortest time between two JWKS fetches triggered by an unknown key id. */
  jwksCooldownMs: number;
  clockToleranceSeconds: number;
}

/** 503: the identity provider could not be asked (the caller is not at fault, nothing is counted against it). */
export type OidcResult = { ok: true; identity: Identity } | { ok: false; status: 401 | 403 | 503; reason: string };

/** `realm_access.roles` or `resource_access."vigie-api".roles`: dots separate, quotes keep a dotted key whole. */
export function claimAt(payload: Record<string, unknown>, path: string): unknown {
  const parts = path.match(/"[^"]*"|[^.]+/g)?.map((p) => p.replace(/^"|"$/g, '')) ?? [];
  let cur: unknown = payload;
  for (const p of parts) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

function words(v: unknown): string[] {
  if (typeof v === 'string') return v.split(/[\s,]+/).filter(Boolean);
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
}

/** The strongest human role among the claim's values (admin > engineer > operator > viewer), else integration. */
export function roleFromClaim(values: string[], prefix: string): Role | null {
  const roles = values.filter((v) => v.startsWith(prefix)).map((v) => v.slice(prefix.length)).filter((v): v is Role => (ROLES as readonly string[]).includes(v));
  if (roles.length === 0) return null;
  return roles.sort((a, b) => ROLE_RANK[b] - ROLE_RANK[a])[0]!;
}

export class OidcVerifier {
  private jwks?: ReturnType<typeof createRemoteJWKSet>;
  private discovering?: Promise<ReturnType<typeof createRemoteJWKSet>>;

  constructor(private readonly cfg: OidcConfig) {}

  private async keySet(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (this.jwks) return this.jwks;
    this.discovering ??= (async () => {
      let url = this.cfg.jwksUrl;
      if (!url) {
        const res = await fetch(`${this.cfg.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5000), redirect: 'error' });
        if (!res.ok) throw new Error(`OIDC discovery answered HTTP ${res.status}`);
        const doc = (await res.json()) as { issuer?: string; jwks_uri?: string };
        // OpenID Connect Discovery 1.0, §4.3: the document's issuer must be the one configured.
        if (doc.issuer !== this.cfg.issuer) throw new Error(`OIDC discovery: issuer ${doc.issuer} differs from VIGIE_OIDC_ISSUER`);
        if (!doc.jwks_uri) throw new Error('OIDC discovery: no jwks_uri');
        url = doc.jwks_uri;
      }
      this.jwks = createRemoteJWKSet(new URL(url), { cooldownDuration: this.cfg.jwksCooldownMs, timeoutDuration: 5000 });
      return this.jwks;
    })();
    try {
      return await this.discovering;
    } catch (err) {
      this.discovering = undefined; // try discovery again at the next request
      throw err;
    }
  }

  async verify(jwt: string): Promise<OidcResult> {
    let payload: JWTPayload;
    let keys: ReturnType<typeof createRemoteJWKSet>;
    try {
      keys = await this.keySet();
    } catch {
      return { ok: false, status: 503, reason: 'identity provider unreachable (discovery document)' };
    }
    try {
      ({ payload } = await jwtVerify(jwt, keys, {
        issuer: this.cfg.issuer,
        audience: this.cfg.audience,
        clockTolerance: this.cfg.clockToleranceSeconds,
        // Asymmetric signatures only: an HMAC "signed" with a public key, or alg none, is refused.
        algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'],
      }));
    } catch (err) {
      // Key set not fetchable (network, timeout, not 200, not a JWKS): the provider's trouble.
      if (!(err instanceof joseErrors.JOSEError) || err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid || err.code === 'ERR_JOSE_GENERIC') {
        return { ok: false, status: 503, reason: 'identity provider unreachable (key set)' };
      }
      const reason =
        err instanceof joseErrors.JWTExpired ? 'token expired'
        : err instanceof joseErrors.JWTClaimValidationFailed ? `claim ${err.claim} rejected`
        : err instanceof joseErrors.JWSSignatureVerificationFailed ? 'bad signature'
        : err instanceof joseErrors.JWKSNoMatchingKey ? 'unknown signing key'
        : 'invalid token';
      return { ok: false, status: 401, reason };
    }
    const role = roleFromClaim(words(claimAt(payload, this.cfg.rolesClaim)), this.cfg.rolePrefix);
    if (!role) return { ok: false, status: 403, reason: `no Vigie role in claim ${this.cfg.rolesClaim}` };
    const claimed = claimAt(payload, this.cfg.domainsClaim);
    const domains = parseDomainWords(claimed === undefined ? this.cfg.defaultDomains : words(claimed));
    if (!Array.isArray(domains) && domains !== 'all') return { ok: false, status: 403, reason: `claim ${this.cfg.domainsClaim}: ${domains.error}` };
    if (Array.isArray(domains) && domains.length === 0) return { ok: false, status: 403, reason: `no domain granted (claim ${this.cfg.domainsClaim})` };
    const user = claimAt(payload, this.cfg.subjectClaim);
    const subject = typeof user === 'string' && user ? user : payload.sub;
    if (!subject) return { ok: false, status: 401, reason: 'token has no subject' };
    const name = claimAt(payload, 'name');
    return {
      ok: true,
      identity: { subject: `oidc:${subject}`, role, domains, via: 'oidc', ...(typeof name === 'string' ? { name } : {}), ...(payload.exp ? { expiresAt: payload.exp * 1000 } : {}) },
    };
  }
}

/** A JWS compact serialisation (three base64url parts), as opposed to our own `vgt_` tokens. */
export function looksLikeJwt(s: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(s);
}
