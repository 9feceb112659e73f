/**
 * Access at start-up: VIGIE_ADMIN_TOKEN stored (hashed), the OpenID Connect verifier built,
 * and the listening address checked against what protects it. With nobody able to sign in
 * (no active token, no OpenID Connect), the API may listen on loopback only: exposing it
 * elsewhere is refused with the settings that would fix it.
 */
import type { Logger } from 'pino';
import type pg from 'pg';
import type { Config } from '../config.ts';
import { VigieError } from '../errors.ts';
import { recordAudit } from './audit.ts';
import { OidcVerifier } from './oidc.ts';
import { hasActiveTokens, INITIAL_ADMIN_ID, provisionAdminToken } from './tokens.ts';

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export interface AccessSetup {
  oidc?: OidcVerifier;
  /** Someone can sign in (an active API token exists, or OpenID Connect is configured). */
  identityConfigured: boolean;
}

export async function prepareAccess(pool: pg.Pool, config: Config, logger: Logger): Promise<AccessSetup> {
  const log = logger.child({ component: 'access' });
  if (config.auth.adminToken && (await provisionAdminToken(pool, config.auth.adminToken))) {
    await recordAudit(pool, { subject: 'system', role: null, tokenId: INITIAL_ADMIN_ID, action: 'token.provision', target: { tokenId: INITIAL_ADMIN_ID, from: 'VIGIE_ADMIN_TOKEN' }, status: null, source: 'start', userAgent: null });
    log.info({ tokenId: INITIAL_ADMIN_ID }, 'VIGIE_ADMIN_TOKEN stored (hashed) as an admin token');
  }
  const oidc = config.auth.oidc ? new OidcVerifier(config.auth.oidc) : undefined;
  const identityConfigured = Boolean(oidc) || (await hasActiveTokens(pool));
  if (!identityConfigured) {
    if (!isLoopbackHost(config.http.host)) {
      throw new VigieError(
        'VIGIE_ERR_NO_AUTH',
        `refusing to listen on ${config.http.host} with no way to authenticate: set VIGIE_ADMIN_TOKEN, create a token with "vigie token create --role admin", or configure VIGIE_OIDC_ISSUER and VIGIE_OIDC_AUDIENCE; or keep VIGIE_HTTP_HOST on loopback (127.0.0.1)`,
      );
    }
    log.warn(
      { host: config.http.host },
      'no identity configured (no API token, VIGIE_ADMIN_TOKEN or OpenID Connect): listening on loopback only, and every API request is refused until one exists; create one with "vigie token create --role admin" (works while Vigie runs)',
    );
  } else if (oidc) {
    log.info({ issuer: config.auth.oidc!.issuer, audience: config.auth.oidc!.audience }, 'OpenID Connect bearer tokens accepted');
  }
  return { oidc, identityConfigured };
}
