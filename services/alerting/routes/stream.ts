/**
 * Live alert events as Server-Sent Events (WHATWG HTML "Server-sent events"): one `event:`
 * per alert event type, JSON `data:`, and a comment line every 15 s so proxies keep the
 * connection open.
 */
import type { FastifyInstance } from 'fastify';
import type { AlertEvent } from '../engine.ts';
import type { AlertingRuntime } from '../runtime.ts';

export async function streamRoutes(app: FastifyInstance, opts: { runtime: AlertingRuntime }): Promise<void> {
  const { engine } = opts.runtime;
  // Hijacked responses are not Fastify's to close: end them ourselves, or close() would wait.
  const open = new Set<() => void>();
  app.addHook('onClose', async () => {
    for (const end of [...open]) end();
  });
  app.get('/alerts/stream', { schema: { tags: ['alerts'], summary: 'Live alert events (text/event-stream); only alerts of devices the caller may see' } }, async (req, reply) => {
    const scope = await req.deviceScope();
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(': vigie alert stream\n\n');
    let seq = 0;
    const onEvent = (e: AlertEvent) => {
      if (!scope.has(e.alert.deviceId)) return;
      res.write(`id: ${++seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
    };
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    heartbeat.unref();
    engine.on('alert', onEvent);
    let release = () => {};
    const close = () => {
      clearInterval(heartbeat);
      engine.off('alert', onEvent);
      open.delete(end);
      release();
    };
    const end = () => {
      close();
      res.end();
    };
    open.add(end);
    // A token revoked or expired while the stream is open ends it.
    release = req.liveSession(end);
    req.raw.on('close', close);
  });
}
