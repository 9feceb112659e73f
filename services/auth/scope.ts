/**
 * Domain scoping: which devices an identity may see. A device's domain is the registry's
 * (schemas/device.ts; `devices.domain`). Unregistered devices have no domain, and dead letters
 * may have no device at all: both are visible only to identities granted every domain, since
 * nothing says which domain they belong to (refusing is the safe side).
 *
 * Routes narrow what they query to the visible devices: an object outside answers 404, lists
 * leave it out. NO_DEVICE stands for "no device at all" where an empty list would mean "no
 * filter": device ids are never empty (schemas/observation.ts, deviceIdSchema).
 */
import type pg from 'pg';
import type { Scope } from '../../schemas/alerting.ts';
import type { DomainGrant, DomainScope } from './identity.ts';

export const NO_DEVICE = '';

export interface DeviceScope {
  /** True when the identity sees every device (no restriction applies). */
  readonly all: boolean;
  has(deviceId: string): boolean;
  /**
   * Devices to query: `requested` narrowed to the visible ones; when nothing is requested,
   * undefined for an unrestricted identity (no filter) or every visible device (optionally
   * of one kind). Never an empty array when restricted: [NO_DEVICE] matches nothing.
   */
  restrict(requested?: string[], kind?: string): string[] | undefined;
  /** Same, but always a list (for filters where an empty list means "all"). */
  restrictList(requested: string[]): string[];
}

export const UNRESTRICTED: DeviceScope = {
  all: true,
  has: () => true,
  restrict: (requested) => requested,
  restrictList: (requested) => requested,
};

class RestrictedScope implements DeviceScope {
  readonly all = false;
  constructor(private readonly kinds: Map<string, string | null>) {}
  has(id: string): boolean {
    return this.kinds.has(id);
  }
  restrict(requested?: string[], kind?: string): string[] {
    const ids = requested ? requested.filter((id) => this.kinds.has(id)) : [...this.kinds].filter(([, k]) => !kind || k === kind).map(([id]) => id);
    return ids.length ? ids : [NO_DEVICE];
  }
  restrictList(requested: string[]): string[] {
    return this.restrict(requested.length ? requested : undefined);
  }
}

function grantSql(grants: DomainGrant[], params: unknown[]): string {
  const p = (v: unknown) => `$${params.push(v)}`;
  const parts = grants.map((g) => {
    const clauses = [`domain = ${p(g.domain)}`];
    if (g.routes) clauses.push(`road->>'route' = any(${p(g.routes)}::text[])`);
    if (g.buildings) clauses.push(`building->>'building' = any(${p(g.buildings)}::text[])`);
    return `(${clauses.join(' and ')})`;
  });
  return parts.length ? parts.join(' or ') : 'false';
}

/**
 * Loads visible device sets, kept a few seconds per distinct grant list: the registry changes
 * at start or through the registry API, not between two requests of a dashboard.
 */
export class DeviceScopes {
  private readonly cache = new Map<string, { at: number; scope: Promise<DeviceScope> }>();
  constructor(
    private readonly pool: pg.Pool,
    private readonly ttlMs = 5000,
  ) {}

  async forDomains(domains: DomainScope, now = Date.now()): Promise<DeviceScope> {
    if (domains === 'all') return UNRESTRICTED;
    const key = JSON.stringify(domains);
    const hit = this.cache.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.scope;
    const params: unknown[] = [];
    const scope = this.pool
      .query<{ id: string; kind: string | null }>(`select id, kind from devices where ${grantSql(domains, params)}`, params)
      .then(({ rows }) => new RestrictedScope(new Map(rows.map((r) => [r.id, r.kind]))) as DeviceScope);
    scope.catch(() => this.cache.delete(key));
    if (this.cache.size > 1000) this.cache.clear();
    this.cache.set(key, { at: now, scope });
    return scope;
  }

  /** Forget cached sets (after a registry change). */
  clear(): void {
    this.cache.clear();
  }
}

/**
 * Whether a rule or silence scope stays inside the identity's domains: its domain is granted,
 * and a grant narrowed to routes or buildings requires the scope to name only those.
 */
export function scopeWithin(scope: Scope, domains: DomainScope): boolean {
  if (domains === 'all') return true;
  if (!scope.domain) return false;
  const grant = domains.find((g) => g.domain === scope.domain);
  if (!grant) return false;
  if (grant.routes && !(scope.routes?.length && scope.routes.every((r) => grant.routes!.includes(r)))) return false;
  if (grant.buildings && !(scope.buildings?.length && scope.buildings.every((b) => grant.buildings!.includes(b)))) return false;
  return true;
}

/**
 * Whether a rule or silence is shown: of one of the identity's domains, or of no domain (a
 * rule such as "device silent" applies everywhere) as long as what it names (routes,
 * buildings, devices) is visible too.
 */
export function scopeVisible(scope: Scope, domains: DomainScope, devices: DeviceScope): boolean {
  if (domains === 'all') return true;
  if (scope.domain) return domains.some((g) => g.domain === scope.domain);
  if (scope.routes && !domains.some((g) => g.domain === 'roads')) return false;
  if (scope.buildings && !domains.some((g) => g.domain === 'buildings')) return false;
  if (scope.devices && !scope.devices.some((d) => devices.has(d))) return false;
  return true;
}

/** Whether every grant of `inner` is covered by `outer` (a restricted admin cannot mint a wider token). */
export function domainsWithin(inner: DomainScope, outer: DomainScope): boolean {
  if (outer === 'all') return true;
  if (inner === 'all') return false;
  return inner.every((g) => {
    const o = outer.find((x) => x.domain === g.domain);
    if (!o) return false;
    if (o.routes && !(g.routes && g.routes.every((r) => o.routes!.includes(r)))) return false;
    if (o.buildings && !(g.buildings && g.buildings.every((b) => o.buildings!.includes(b)))) return false;
    return true;
  });
}
