/** A minimal Server-Sent Events reader over node:http for tests (frames, ids, comments). */
import http from 'node:http';
import { TEST_ADMIN_TOKEN } from './platform.ts';

export interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

export interface SseClient {
  frames: SseFrame[];
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Resolves when the server ends the stream (or the connection drops). */
  ended: Promise<void>;
  close(): void;
}

/** Sends the test platforms' admin token unless `headers` has its own authorization. */
export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const auth = Object.keys(headers).some((k) => k.toLowerCase() === 'authorization') ? {} : { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
    const req = http.get(url, { headers: { accept: 'text/event-stream', ...auth, ...headers } }, (res) => {
      const frames: SseFrame[] = [];
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const f: SseFrame = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) f.comment = line.slice(1).trim();
            else {
              const i = line.indexOf(':');
              const k = line.slice(0, i);
              const v = line.slice(i + 1).replace(/^ /, '');
              if (k === 'id' || k === 'event' || k === 'data') f[k] = v;
            }
          }
          frames.push(f);
        }
      });
      const ended = new Promise<void>((done) => res.on('close', () => done()));
      resolve({ frames, status: res.statusCode ?? 0, headers: res.headers, ended, close: () => req.destroy() });
    });
    req.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
    });
  });
}
