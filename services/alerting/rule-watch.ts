/**
 * Reloads the rule files when the rules folder changes (fs.watch, debounced: editors write a
 * file in several steps, and a `git pull` touches many files at once). Run by the process
 * that evaluates. fs.watch may miss events on some network file systems; a restart or an API
 * change still reloads.
 */
import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from 'pino';

export function watchRules(dir: string, debounceMs: number, logger: Logger, reload: () => Promise<void>): () => void {
  if (debounceMs <= 0) return () => {};
  let watcher: FSWatcher;
  try {
    watcher = watch(dir, { persistent: false });
  } catch (err) {
    logger.warn({ err, dir }, 'cannot watch the rules folder; rule file changes need a restart');
    return () => {};
  }
  let timer: NodeJS.Timeout | null = null;
  let chain = Promise.resolve();
  watcher.on('change', () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      chain = chain.then(() => reload().catch((err) => logger.error({ err, dir }, 'rule files reload failed')));
    }, debounceMs);
  });
  watcher.on('error', (err) => logger.warn({ err, dir }, 'rules folder watch failed'));
  return () => {
    if (timer) clearTimeout(timer);
    watcher.close();
  };
}
