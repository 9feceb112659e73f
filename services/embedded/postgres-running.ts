/**
 * The embedded PostgreSQL of a running Vigie, for CLI commands that need the database while
 * Vigie runs (`vigie device credentials …`): its port is on line 4 of postmaster.pid (the
 * PostgreSQL data directory layout, "Database File Layout"), its password beside the data.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export function runningEmbeddedPostgresUrl(dataDir: string): string | undefined {
  const pidFile = path.join(dataDir, 'postgres', 'postmaster.pid');
  const passwordFile = path.join(dataDir, 'embedded-postgres.json');
  if (!existsSync(pidFile) || !existsSync(passwordFile)) return undefined;
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0) return undefined;
  try {
    process.kill(pid, 0);
  } catch {
    return undefined;
  }
  const { user, password } = JSON.parse(readFileSync(passwordFile, 'utf8')) as { user: string; password: string };
  return `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/vigie`;
}
