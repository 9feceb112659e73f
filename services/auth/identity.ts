/**
 * Who is calling and what they may do: roles (what), domain grants (which devices). Shared by
 * the HTTP API and the broker (an API token given as an MQTT password names the same identity).
 */
import { z } from 'zod';

export const ROLES = ['viewer', 'operator', 'engineer', 'admin', 'integration'] as const;
export type Role = (typeof ROLES)[number];
export const roleSchema = z.enum(ROLES);

/**
 * What a route needs. `read`: consult; `operate`: acknowledge, silence; `engineer`: rules,
 * backtests, dead-letter replay, device registry; `admin`: tokens, audit; `publish`: push
 * telemetry (NGSI notifications, MQTT); `authenticated`: any identity (the API documentation).
 */
export type Access = 'read' | 'operate' | 'engineer' | 'admin' | 'publish' | 'authenticated';

const GRANTS: Record<Role, ReadonlySet<Access>> = {
  viewer: new Set(['read', 'authenticated']),
  operator: new Set(['read', 'operate', 'authenticated']),
  engineer: new Set(['read', 'operate', 'engineer', 'authenticated']),
  admin: new Set(['read', 'operate', 'engineer', 'admin', 'publish', 'authenticated']),
  // A program that publishes: nothing to read, nothing to change.
  integration: new Set(['publish', 'authenticated']),
};

export function roleAllows(role: Role, access: Access): boolean {
  return GRANTS[role].has(access);
}

/** Human roles in increasing power; `integration` stands apart. */
export const ROLE_RANK: Record<Role, number> = { integration: 0, viewer: 1, operator: 2, engineer: 3, admin: 4 };

export const DOMAINS = ['roads', 'buildings'] as const;
export type DomainName = (typeof DOMAINS)[number];

/** One domain, optionally narrowed to some routes (roads) or some buildings (buildings). */
export const domainGrantSchema = z
  .object({
    domain: z.enum(DOMAINS),
    routes: z.array(z.string().min(1).max(32)).min(1).optional(),
    buildings: z.array(z.string().min(1).max(128)).min(1).optional(),
  })
  .strict();
export type DomainGrant = z.infer<typeof domainGrantSchema>;

/** `'all'`: every domain, and devices of no known domain (unregistered ones, dead letters without a device). */
export type DomainScope = 'all' | DomainGrant[];

export interface Identity {
  /** `token:<id>`, `oidc:<user>`, `cli:<os user>`. Goes to the audit log; never a secret. */
  subject: string;
  role: Role;
  domains: DomainScope;
  /** API token id (tokens only). */
  tokenId?: string;
  /** Display name: the token's name or the user's name. */
  name?: string;
  /** When it stops being valid (ms since the epoch): token expiry, or the JWT's `exp`. */
  expiresAt?: number;
  via: 'token' | 'oidc' | 'cli';
}

/**
 * Grants from words: `roads`, `buildings`, `roads:RD910`, `buildings:clg-jean-moulin`, or `*`
 * (everything). A whole domain absorbs its narrowed grants. Unknown words are refused, never
 * silently widened.
 */
export function parseDomainWords(words: string[]): DomainScope | { error: string } {
  const whole = new Set<DomainName>();
  const routes = new Set<string>();
  const buildings = new Set<string>();
  for (const raw of words.flatMap((w) => w.split(',')).map((w) => w.trim()).filter(Boolean)) {
    if (raw === '*' || raw === 'all') return 'all';
    const [domain, item] = raw.split(/:(.*)/s, 2) as [string, string | undefined];
    if (domain !== 'roads' && domain !== 'buildings') return { error: `unknown domain "${domain}" (roads, buildings, roads:<route>, buildings:<building>)` };
    if (item === undefined || item === '') whole.add(domain);
    else (domain === 'roads' ? routes : buildings).add(item);
  }
  const grants: DomainGrant[] = [];
  if (whole.has('roads')) grants.push({ domain: 'roads' });
  else if (routes.size) grants.push({ domain: 'roads', routes: [...routes].sort() });
  if (whole.has('buildings')) grants.push({ domain: 'buildings' });
  else if (buildings.size) grants.push({ domain: 'buildings', buildings: [...buildings].sort() });
  return grants;
}

export function describeDomains(d: DomainScope): string {
  if (d === 'all') return 'all';
  if (d.length === 0) return 'none';
  return d.map((g) => (g.routes ? g.routes.map((r) => `roads:${r}`).join(',') : g.buildings ? g.buildings.map((b) => `buildings:${b}`).join(',') : g.domain)).join(',');
}
