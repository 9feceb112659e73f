/**
 * One Vigie per data directory. A second one would stop the first one's embedded PostgreSQL
 * (taking it for an orphan) and then fail itself. The lock is a pid file, `vigie.pid`, created
 * exclusively (O_EXCL) and checked for liveness: a file left by a killed Vigie names a process
 * that is gone (or another program that reused its pid, told apart by its start time), so it
 * never blocks a restart.
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { VigieError } from '../errors.ts';

export interface DataDirLock {
  release(): void;
}

/** Start time of a process in clock ticks since boot (/proc/<pid>/stat field 22), when known. */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count after its end.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function alive(pid: number, started: string | null): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const now = startTime(pid);
  return started === null || now === null || now === started;
}

export function lockDataDir(dataDir: string, purpose: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'vigie.pid');
  const content = JSON.stringify({ pid: process.pid, started: startTime(process.pid), purpose });
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let holder: { pid?: number; started?: string | null; purpose?: string } = {};
      try {
        holder = JSON.parse(readFileSync(file, 'utf8'));
      } catch {
        // Half-written by a process killed while creating it: stale.
      }
      if (typeof holder.pid === 'number' && holder.pid !== process.pid && alive(holder.pid, holder.started ?? null)) {
        throw new VigieError(
          'VIGIE_ERR_DATA_DIR_LOCKED',
          `the data directory ${dataDir} is in use by another Vigie (pid ${holder.pid}, ${holder.purpose ?? 'running'}): stop it first, or give this one its own VIGIE_DATA_DIR`,
        );
      }
      unlinkSync(file);
      continue;
    }
    writeSync(fd, content);
    closeSync(fd);
    let released = false;
    return {
      release() {
        if (released) return;
        released = true;
        try {
          if ((JSON.parse(readFileSync(file, 'utf8')) as { pid: number }).pid === process.pid) unlinkSync(file);
        } catch {
          // Already gone.
        }
      },
    };
  }
  throw new VigieError('VIGIE_ERR_DATA_DIR_LOCKED', `could not take the lock ${file}: another process keeps re-creating it`);
}
