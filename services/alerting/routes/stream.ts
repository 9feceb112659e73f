/**
 * Live alert events as Server-Sent Events (WHATWG HTML "Server-sent events"): one `event:`
 * per alert event type, JSON `data:`. Heartbeats, caps and shutdown are the shared helper's
 * (services/api/sse.ts). Events come from alert_stream, so a client connected to any process
 * sees the events of the evaluator wherever it runs; ids are alert_stream ids, valid on every
 * process, and Last-Event-ID (header or `lastEventId` query) resumes after them.
 */
import type { FastifyInstance } from 'fastify';
import type { SseHub } from '../../api/sse.ts';
import type { AlertingRuntime } from '../runtime.ts';
import type { StreamEvent } from '../store/outbox.ts';

const REPLAY_MAX = 10_000;

type Row = { seq: number; event: StreamEvent };

export async function streamRoutes(app: FastifyInstance, opts: { runtime: AlertingRuntime; sse: SseHub }): Promise<void> {
  const { hub } = opts.runtime;
  opts.sse.install(app);
  app.get('/alerts/stream', { schema: { tags: ['alerts'], summary: 'Live alert events (text/event-stream); only alerts of devices the caller may see; resume with Last-Event-ID' } }, async (req, reply) => {
    const scope = await req.deviceScope();
    const header = req.headers['last-event-id'];
    const query = (req.query ?? {}) as { lastEventId?: string };
    const lastId = (Array.isArray(header) ? header[0] : header) ?? query.lastEventId;
    const conn = opts.sse.accept(req, reply, ': vigie alert stream\n\n');
    if (!conn) return reply;
    const text = (rows: Row[]) =>
      rows
        .filter((r) => scope.has(r.event.alert.deviceId))
        .map((r) => `id: ${r.seq}\nevent: ${r.event.type}\ndata: ${JSON.stringify(r.event)}\n\n`)
        .join('');
    const send = (rows: Row[]) => {
      const t = text(rows);
      if (t) conn.send(t);
    };
    // Subscribe before replaying, holding live events until the replay is queued (no gap, no repeat).
    let held: Row[] | null = lastId ? [] : null;
    const upTo = hub.position;
    const unsubscribe = hub.subscribe({
      send: (rows) => {
        if (held) held.push(...rows);
        else send(rows);
      },
    });
    conn.onClose(unsubscribe);
    if (!lastId) return;
    const after = /^\d+$/.test(lastId) ? Number(lastId) : NaN;
    const missed = Number.isSafeInteger(after) && after <= upTo ? await hub.replay(after, upTo, REPLAY_MAX).catch(() => null) : null;
    if (missed === null) conn.send(`event: reset\ndata: ${JSON.stringify({ reason: 'history_unavailable', message: 'events after this id cannot be replayed; re-read GET /api/v1/alerts' })}\n\n`);
    else send(missed);
    const rest = held ?? [];
    held = null;
    send(rest);
  });
}
