/**
 * Live alert events as Server-Sent Events (WHATWG HTML "Server-sent events"): one `event:`
 * per alert event type, JSON `data:`. Heartbeats, caps and shutdown are the shared helper's
 * (services/api/sse.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { SseHub } from '../../api/sse.ts';
import type { AlertEvent } from '../engine.ts';
import type { AlertingRuntime } from '../runtime.ts';

export async function streamRoutes(app: FastifyInstance, opts: { runtime: AlertingRuntime; sse: SseHub }): Promise<void> {
  const { engine } = opts.runtime;
  opts.sse.install(app);
  app.get('/alerts/stream', { schema: { tags: ['alerts'], summary: 'Live alert events (text/event-stream); only alerts of devices the caller may see' } }, async (req, reply) => {
    const scope = await req.deviceScope();
    const conn = opts.sse.accept(req, reply, ': vigie alert stream\n\n');
    if (!conn) return reply;
    let seq = 0;
    const onEvent = (e: AlertEvent) => {
      if (!scope.has(e.alert.deviceId)) return;
      conn.send(`id: ${++seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
    };
    engine.on('alert', onEvent);
    conn.onClose(() => engine.off('alert', onEvent));
  });
}
