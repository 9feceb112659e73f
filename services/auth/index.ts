/** Access control: identities, API tokens, OpenID Connect, roles, domain scoping, audit log. */
export { ROLES, roleAllows, parseDomainWords, describeDomains, type Access, type DomainGrant, type DomainScope, type Identity, type Role } from './identity.ts';
export { verifyApiToken, createToken, listTokens, revokeToken, hasActiveTokens, provisionAdminToken, TokenTouch, INITIAL_ADMIN_ID, type TokenView } from './tokens.ts';
export { OidcVerifier, type OidcConfig } from './oidc.ts';
export { recordAudit, listAudit, type AuditEntry } from './audit.ts';
export { DeviceScopes, NO_DEVICE, UNRESTRICTED, scopeVisible, scopeWithin, type DeviceScope } from './scope.ts';
