/** Every dashboard, by the file it is written to in dashboards/. */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { alertsDashboard } from './alerts.ts';
import { buildingsDashboard } from './buildings.ts';
import { roadWeatherDashboard } from './road-weather.ts';
import { trafficDashboard } from './traffic.ts';

export function buildDashboards(): Record<string, Dashboard> {
  return {
    'vigie-road-weather.json': withPanelDatasources(roadWeatherDashboard().build()),
    'vigie-traffic.json': withPanelDatasources(trafficDashboard().build()),
    'vigie-buildings.json': withPanelDatasources(buildingsDashboard().build()),
    'vigie-alerts.json': withPanelDatasources(alertsDashboard().build()),
  };
}

/** A panel whose targets all use one datasource names it too (Grafana otherwise falls back to the default datasource). */
function withPanelDatasources(d: Dashboard): Dashboard {
  for (const panel of d.panels ?? []) {
    if (!('targets' in panel) || panel.datasource) continue;
    const refs = new Set((panel.targets ?? []).map((t) => JSON.stringify((t as { datasource?: unknown }).datasource)));
    if (refs.size === 1) panel.datasource = JSON.parse([...refs][0]!);
  }
  return d;
}

/** The exact bytes of each file (stable key order from the builders, two-space indent, final newline). */
export function renderDashboards(): Record<string, string> {
  return Object.fromEntries(Object.entries(buildDashboards()).map(([file, d]) => [file, `${JSON.stringify(d, null, 2)}\n`]));
}
