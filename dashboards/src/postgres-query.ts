/**
 * A Grafana PostgreSQL target. The foundation SDK has typed builders for the datasources
 * whose query schema Grafana publishes; the SQL datasources have none, so this builder emits
 * the target the PostgreSQL query editor saves in code mode (`rawSql`, `format`, `rawQuery`,
 * `editorMode`), typed as the SDK's `cog.Dataquery` so panels accept it.
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import { PG } from './datasources.ts';

export type SqlFormat = 'time_series' | 'table';

export interface PostgresQuery extends cog.Dataquery {
  refId: string;
  datasource: typeof PG;
  format: SqlFormat;
  rawQuery: true;
  editorMode: 'code';
  rawSql: string;
  hide?: boolean;
}

export class PostgresQueryBuilder implements cog.Builder<cog.Dataquery> {
  private readonly internal: PostgresQuery;

  constructor(rawSql: string, format: SqlFormat = 'time_series', refId = 'A') {
    this.internal = {
      refId,
      datasource: PG,
      format,
      rawQuery: true,
      editorMode: 'code',
      rawSql: tidy(rawSql),
      _implementsDataqueryVariant() {},
    };
  }

  build(): PostgresQuery {
    return this.internal;
  }
}

export const sql = (rawSql: string, format: SqlFormat = 'time_series', refId = 'A') => new PostgresQueryBuilder(rawSql, format, refId);

/** Drops the indentation of template literals so the JSON stays readable in review. */
function tidy(s: string): string {
  const lines = s.replace(/^\n+|\s+$/g, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.match(/^ */)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
}
