/** Tokens for tests: created in the platform's database as `vigie token create` would. */
import type pg from 'pg';
import { parseDomainWords, type DomainScope, type Role } from '../../services/auth/identity.ts';
import { createToken } from '../../services/auth/tokens.ts';

/** A new API token of `role`, limited to `domains` words (roads, buildings:clg-a, ...) when given. */
export async function createTestToken(pool: pg.Pool, role: Role, domains?: string[], expiresAt?: Date): Promise<{ id: string; token: string }> {
  let scope: DomainScope = 'all';
  if (domains) {
    const parsed = parseDomainWords(domains);
    if (parsed !== 'all' && !Array.isArray(parsed)) throw new Error(parsed.error);
    scope = parsed;
  }
  const { token, view } = await createToken(pool, { name: `test ${role}`, role, domains: scope, expiresAt, createdBy: 'test' });
  return { id: view.id, token };
}

export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}
