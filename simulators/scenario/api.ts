/** The little of Vigie's HTTP API a scenario check reads: alerts, observations, latest values. */

export interface ApiTarget {
  url: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
}

export interface AlertItem {
  id: string;
  ruleId: string;
  deviceId: string;
  channel: string;
  state: string;
  startedAt: string;
  firedAt: string | null;
  resolvedAt: string | null;
  lastValue: number | null;
}

export interface ObservationItem {
  time: string;
  deviceId: string;
  metric: string;
  channel: string | null;
  value: number;
}

async function get<T>(api: ApiTarget, route: string): Promise<T> {
  const res = await fetch(new URL(route, api.url), { headers: { accept: 'application/json', ...(api.token ? { authorization: `Bearer ${api.token}` } : {}) } });
  if (!res.ok) throw new Error(`GET ${route}: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
  return (await res.json()) as T;
}

async function all<T>(api: ApiTarget, route: string): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: T[]; nextCursor: string | null } = await get(api, `${route}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && out.length < 200_000);
  return out;
}

export const listAlerts = (api: ApiTarget, devices: string[], from: number, to: number) =>
  all<AlertItem>(api, `/api/v1/alerts?device=${devices.map(encodeURIComponent).join(',')}&from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&limit=1000`);

export const listObservations = (api: ApiTarget, device: string, metric: string, from: number, to: number, channel?: string) =>
  all<ObservationItem>(api, `/api/v1/observations?device=${encodeURIComponent(device)}&metric=${encodeURIComponent(metric)}${channel !== undefined ? `&channel=${encodeURIComponent(channel)}` : ''}&from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&limit=10000`);

export const latest = (api: ApiTarget, device: string) => get<{ items: ObservationItem[] }>(api, `/api/v1/devices/${encodeURIComponent(device)}/latest`);
