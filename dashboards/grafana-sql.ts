/**
 * Expands a panel's SQL exactly as Grafana does before PostgreSQL sees it, in Grafana's order:
 *
 * 1. the browser replaces template variables (packages/grafana-sql/src/datasource/
 *    SqlDatasource.ts, `applyTemplateVariables` → `templateSrv.replace(rawSql, scopedVars,
 *    interpolateVariable)`): `$var`, `${var}`, `[[var]]`; a multi-value or include-all variable
 *    becomes `'a','b'` (`quoteLiteral`: quotes doubled), a single value is inserted with its
 *    quotes doubled but unquoted; `${var:csv}`, `${var:sqlstring}`, `${var:singlequote}`,
 *    `${var:doublequote}`, `${var:pipe}`, `${var:raw}` use the format registry
 *    (public/app/features/templating/formatRegistry.ts); `$__interval` and `$__interval_ms` are
 *    scoped variables; unknown names are left as they are;
 * 2. the backend's global substitutions (pkg/tsdb/grafana-postgresql-datasource/sqleng/
 *    sql_engine.go, `Interpolate`): `$__interval_ms`, `$__interval` (gtime.FormatInterval),
 *    `$__unixEpochFrom()`, `$__unixEpochTo()`;
 * 3. the PostgreSQL macro engine (pkg/tsdb/grafana-postgresql-datasource/macros.go,
 *    `evaluateMacro`), TimescaleDB switch off: `$__time`, `$__timeEpoch`, `$__timeFilter` →
 *    `col BETWEEN '<RFC 3339>' AND '<RFC 3339>'`, `$__timeFrom()`, `$__timeTo()`,
 *    `$__timeGroup(col, interval)` → `floor(extract(epoch from col)/s)*s`, `$__timeGroupAlias`
 *    (the same `AS "time"`), `$__unixEpochFilter`, `$__unixEpochNanoFilter/From/To`,
 *    `$__unixEpochGroup(Alias)`. The same table is in Grafana's "PostgreSQL data source"
 *    documentation (docs/sources/datasources/postgres/query-editor/_index.md, "Macros").
 * Fill modes (a third `$__timeGroup` argument) are applied by Grafana after the query and are
 * not used by Vigie's dashboards: they are refused here.
 */

export interface TemplateVariable {
  /** The selected value(s); "All" without a custom all value is every option's value. */
  value: string | string[];
  multi?: boolean;
  includeAll?: boolean;
}

export interface ExpandOptions {
  from: Date;
  to: Date;
  intervalMs: number;
  variables: Record<string, TemplateVariable>;
}

// templateSrv's variable regex (public/app/features/variables/utils.ts, `variableRegex`).
const VARIABLE_RE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\${(\w+)(?:\.([^:^}]+))?(?::([^}]+))?}/g;
// macros.go: `\$([_a-zA-Z0-9]+)\(([^\)]*)\)`.
const MACRO_RE = /\$([_a-zA-Z0-9]+)\(([^)]*)\)/g;

/** gtime.FormatInterval: the largest whole unit. */
export function formatInterval(ms: number): string {
  const units: Array<[number, string]> = [
    [365 * 86_400_000, 'y'],
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1000, 's'],
    [1, 'ms'],
  ];
  for (const [size, unit] of units) if (ms >= size) return `${Math.floor(ms / size)}${unit}`;
  return '1ms';
}

/** gtime.ParseInterval for the forms Grafana emits (`1m`, `2h`, `1d`, `1w`, `500ms`), in seconds. */
export function parseIntervalSeconds(s: string): number {
  const m = /^(\d+)(ms|s|m|h|d|w|y)$/.exec(s);
  if (!m) throw new Error(`error parsing interval ${s}`);
  const n = Number(m[1]);
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 }[m[2] as 'ms'];
  return n * unit;
}

/** Go's `%v` of a float64: shortest representation, exponent form from 1e+06 (fmt, `%g` shortest). */
export function goFloat(v: number): string {
  const abs = Math.abs(v);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e6)) {
    const [mant, exp] = v.toExponential().split('e');
    const e = Number(exp);
    return `${mant}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  return String(v);
}

/** Go's time.RFC3339Nano in UTC: trailing zeros of the fraction dropped, no fraction when zero. */
export function rfc3339Nano(d: Date): string {
  return d.toISOString().replace(/\.(\d*?)0*Z$/, (_, f: string) => (f ? `.${f}Z` : 'Z'));
}

const quoteLiteral = (v: string) => `'${v.replace(/'/g, "''")}'`;

function formatVariable(v: TemplateVariable, format: string | undefined): string {
  const values = Array.isArray(v.value) ? v.value : [v.value];
  switch (format) {
    case undefined:
      // SqlDatasource.interpolateVariable
      if (Array.isArray(v.value)) return v.value.map(quoteLiteral).join(',');
      return v.multi || v.includeAll ? quoteLiteral(v.value) : v.value.replace(/'/g, "''");
    case 'csv':
      return values.join(',');
    case 'raw':
      return values.join(',');
    case 'sqlstring':
      return values.map((s) => `'${s.replace(/'/g, "''").replace(/"/g, '\\"')}'`).join(',');
    case 'singlequote':
      return values.map((s) => `'${s.replace(/'/g, "\\'")}'`).join(',');
    case 'doublequote':
      return values.map((s) => `"${s.replace(/"/g, '\\"')}"`).join(',');
    case 'pipe':
      return values.join('|');
    default:
      // A format Grafana has and this expander does not: refuse, rather than expand it wrongly.
      throw new Error(`variable format ${format}: unknown to this expander (add it from Grafana's variable format registry)`);
  }
}

/** Step 1: the browser's template variable replacement. */
export function replaceVariables(sql: string, o: ExpandOptions): string {
  const scoped: Record<string, TemplateVariable> = {
    __interval: { value: formatInterval(o.intervalMs) },
    __interval_ms: { value: String(o.intervalMs) },
    ...o.variables,
  };
  return sql.replace(VARIABLE_RE, (match, n1?: string, n2?: string, f2?: string, n3?: string, _path?: string, f3?: string) => {
    const name = n1 ?? n2 ?? n3!;
    const v = scoped[name];
    if (!v) return match;
    return formatVariable(v, f2 ?? f3);
  });
}

/** Step 2: sql_engine.go `Interpolate`. */
export function globalSubstitutions(sql: string, o: ExpandOptions): string {
  return sql
    .replaceAll('$__interval_ms', String(o.intervalMs))
    .replaceAll('$__interval', formatInterval(o.intervalMs))
    .replaceAll('$__unixEpochFrom()', String(Math.floor(o.from.getTime() / 1000)))
    .replaceAll('$__unixEpochTo()', String(Math.floor(o.to.getTime() / 1000)));
}

/** Step 3: macros.go `Interpolate` and `evaluateMacro` (timescaledb off). */
export function expandMacros(sql: string, o: ExpandOptions): string {
  const from = rfc3339Nano(o.from);
  const to = rfc3339Nano(o.to);
  const fromS = Math.floor(o.from.getTime() / 1000);
  const toS = Math.floor(o.to.getTime() / 1000);
  const nano = (d: Date) => `${BigInt(d.getTime()) * 1_000_000n}`;
  const evaluate = (name: string, args: string[]): string => {
    const need = (n: number) => {
      if (args.length < n || (n === 1 && args[0] === '')) throw new Error(`missing arguments for macro ${name}`);
    };
    switch (name) {
      case '__time':
        need(1);
        return `${args[0]} AS "time"`;
      case '__timeEpoch':
        need(1);
        return `extract(epoch from ${args[0]}) as "time"`;
      case '__timeFilter':
        need(1);
        return `${args[0]} BETWEEN '${from}' AND '${to}'`;
      case '__timeFrom':
        return `'${from}'`;
      case '__timeTo':
        return `'${to}'`;
      case '__timeGroup': {
        need(2);
        if (args.length === 3) throw new Error('fill modes are not supported by this expansion');
        const s = goFloat(parseIntervalSeconds(args[1]!.replace(/^'+|'+$/g, '')));
        return `floor(extract(epoch from ${args[0]})/${s})*${s}`;
      }
      case '__timeGroupAlias':
        return `${evaluate('__timeGroup', args)} AS "time"`;
      case '__unixEpochFilter':
        need(1);
        return `${args[0]} >= ${fromS} AND ${args[0]} <= ${toS}`;
      case '__unixEpochNanoFilter':
        need(1);
        return `${args[0]} >= ${nano(o.from)} AND ${args[0]} <= ${nano(o.to)}`;
      case '__unixEpochNanoFrom':
        return nano(o.from);
      case '__unixEpochNanoTo':
        return nano(o.to);
      case '__unixEpochGroup': {
        need(2);
        if (args.length === 3) throw new Error('fill modes are not supported by this expansion');
        const s = goFloat(parseIntervalSeconds(args[1]!.replace(/^'+|'+$/g, '')));
        return `floor((${args[0]})/${s})*${s}`;
      }
      case '__unixEpochGroupAlias':
        return `${evaluate('__unixEpochGroup', args)} AS "time"`;
      default:
        throw new Error(`unknown macro "${name}"`);
    }
  };
  return sql.replace(MACRO_RE, (match: string, name: string, rawArgs: string) => {
    // Pre-5.3 compatibility (macros.go): `$__timeGroup(...)` directly followed by a comma is the alias form.
    if (name === '__timeGroup' && sql[sql.indexOf(match) + match.length] === ',') name = '__timeGroupAlias';
    return evaluate(name, rawArgs.split(',').map((a) => a.trim()));
  });
}

/** The three steps: what PostgreSQL receives from Grafana for this panel SQL. */
export function expandGrafanaSql(sql: string, o: ExpandOptions): string {
  return expandMacros(globalSubstitutions(replaceVariables(sql, o), o), o);
}
