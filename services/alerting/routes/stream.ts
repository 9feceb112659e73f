/**
 * Live alert events as Server-Sent Events (WHATWG HTML "Server-sent events"): one `event:`
 * per alert event type, JSON `data:`, and a comment line every 15 s so proxies keep the
 * connection open. Events come from alert_stream, so a client connected to any process sees
 * the events of the evaluator wherever it runs; ids are alert_stream ids, valid on every
 * process, and Last-Event-ID (header or `lastEventId` query) resumes after them.
 */
import type { FastifyInstance } from 'fastify';
import type { StreamEvent } from '../store/outbox.ts';
import type { AlertingRuntime } from '../runtime.ts';

/** Past this much unsent data a client is cut off; it resumes with Last-Event-ID. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const REPLAY_MAX = 10_000;

export async function streamRoutes(app: FastifyInstance, opts: { runtime: AlertingRuntime }): Promise<void> {
  const { hub } = opts.runtime;
  // Hijacked responses are not Fastify's to close: end them before close, or close() would
  // wait for clients that never leave (graceful shutdown).
  const open = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
  });
  app.get('/alerts/stream', { schema: { tags: ['alerts'], summary: 'Live alert events (text/event-stream); only alerts of devices the caller may see; resume with Last-Event-ID' } }, async (req, reply) => {
    const scope = await req.deviceScope();
    const header = req.headers['last-event-id'];
    const query = (req.query ?? {}) as { lastEventId?: string };
    const lastId = (Array.isArray(header) ? header[0] : header) ?? query.lastEventId;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(': vigie alert stream\n\n');
    let closed = false;
    let unsubscribe: () => void = () => {};
    let heartbeat: NodeJS.Timeout | undefined;
    let release = () => {};
    const end = () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      unsubscribe();
      open.delete(end);
      release();
      res.end();
    };
    const write = (all: Array<{ seq: number; event: StreamEvent }>) => {
      const rows = all.filter((r) => scope.has(r.event.alert.deviceId));
      if (closed || rows.length === 0) return;
      res.write(rows.map((r) => `id: ${r.seq}\nevent: ${r.event.type}\ndata: ${JSON.stringify(r.event)}\n\n`).join(''));
      if (res.writableLength > MAX_BUFFERED_BYTES) end();
    };
    open.add(end);
    req.raw.on('close', end);
    // A token revoked or expired while the stream is open ends it.
    release = req.liveSession(end);
    let held: Array<{ seq: number; event: StreamEvent }> | null = lastId ? [] : null;
    const upTo = hub.position;
    unsubscribe = hub.subscribe({
      send: (rows) => {
        if (held) held.push(...rows);
        else write(rows);
      },
    });
    if (lastId) {
      const after = /^\d+$/.test(lastId) ? Number(lastId) : NaN;
      const missed = Number.isFinite(after) && after <= upTo ? await hub.replay(after, upTo, REPLAY_MAX).catch(() => null) : null;
      if (missed === null) res.write(`event: reset\ndata: ${JSON.stringify({ reason: 'history_unavailable', message: 'events after this id cannot be replayed; re-read GET /api/v1/alerts' })}\n\n`);
      else write(missed);
      const rest = held ?? [];
      held = null;
      write(rest);
    }
    if (closed) return;
    heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    heartbeat.unref();
  });
}
