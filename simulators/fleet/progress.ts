/**
 * A live progress line on stderr: rewritten in place on a terminal, one line every 10 s when
 * stderr is a file or a pipe (so logs stay readable). Silent when `enabled` is false.
 */
export interface Progress {
  update(line: string): void;
  done(summary: string): void;
}

export function createProgress(enabled = true, stream: NodeJS.WriteStream = process.stderr): Progress {
  const tty = stream.isTTY === true;
  const every = tty ? 250 : 10_000;
  let last = 0;
  let shown = false;
  return {
    update(line) {
      if (!enabled) return;
      const now = Date.now();
      if (now - last < every) return;
      last = now;
      if (tty) {
        stream.write(`\r\x1b[2K${line}`);
        shown = true;
      } else stream.write(`${line}\n`);
    },
    done(summary) {
      if (!enabled) return;
      if (tty && shown) stream.write('\r\x1b[2K');
      stream.write(`${summary}\n`);
    },
  };
}

export const rate = (n: number, ms: number) => (ms > 0 ? Math.round((n * 1000) / ms) : 0);
