/** The PostgreSQL pool, with the settings every Vigie connection shares. */
import pg from 'pg';

// Return bigint/int8 as JS numbers where they fit (counts, ids), not strings.
pg.types.setTypeParser(20, (v) => Number(v));

export function createPool(connectionString: string, max: number): pg.Pool {
  return new pg.Pool({ connectionString, max, application_name: 'vigie', idleTimeoutMillis: 30_000 });
}

/** SQLSTATE classes 22 (data exception) and 23 (integrity violation): the rows, not the link. */
export function isContentError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}
