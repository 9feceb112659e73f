/** Walks the dashboards' panels, targets and query variables (used by the test and the benchmark). */
import type pg from 'pg';
import { expandGrafanaSql, type ExpandOptions, type TemplateVariable } from './grafana-sql.ts';

export interface DashboardJson {
  uid: string;
  title: string;
  panels: Array<{ type: string; title: string; targets?: Array<{ refId: string; datasource?: { type: string }; rawSql?: string; format?: string; expr?: string }> }>;
  templating?: { list: Array<{ name: string; type: string; query?: string; multi?: boolean; includeAll?: boolean }> };
}

export interface SqlTarget {
  panel: string;
  type: string;
  refId: string;
  format: string;
  rawSql: string;
}

export function sqlTargets(d: DashboardJson): SqlTarget[] {
  return d.panels.flatMap((p) =>
    (p.targets ?? [])
      .filter((t) => t.datasource?.type === 'grafana-postgresql-datasource' && t.rawSql)
      .map((t) => ({ panel: p.title, type: p.type, refId: t.refId, format: t.format ?? 'time_series', rawSql: t.rawSql! })),
  );
}

/**
 * Resolves the dashboard's query variables in order, as Grafana does on load with every
 * multi-value variable on "All" (its value is then every option, quoted as a list).
 */
export async function resolveVariables(pool: pg.Pool, d: DashboardJson, range: Omit<ExpandOptions, 'variables'>): Promise<Record<string, TemplateVariable>> {
  const variables: Record<string, TemplateVariable> = {};
  for (const v of d.templating?.list ?? []) {
    if (v.type !== 'query' || !v.query) continue;
    const { rows } = await pool.query({ text: expandGrafanaSql(v.query, { ...range, variables }), rowMode: 'array' });
    const values = rows.map((r: unknown[]) => String(r[0]));
    variables[v.name] = v.multi || v.includeAll ? { value: values, multi: v.multi, includeAll: v.includeAll } : { value: values[0] ?? '' };
  }
  return variables;
}
