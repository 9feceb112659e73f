/** `GET /api/v1/stream`: Server-Sent Events of new observations (WHATWG HTML, "Server-sent events"). */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { METRICS, isMetricName } from '../../../schemas/index.ts';
import { listParam } from '../../api/query-params.ts';
import type { LiveEvent, LiveFilter, LiveHub } from '../live-hub.ts';

/** Past this much unsent data a subscriber is cut off; it resumes with Last-Event-ID. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

function frame(hub: LiveHub, e: LiveEvent): string {
  const o = e.obs;
  const data = {
    time: o.time.toISOString(),
    deviceId: o.deviceId,
    metric: o.metric,
    channel: o.channel,
    value: o.value,
    unit: isMetricName(o.metric) ? METRICS[o.metric].unit : '',
    domain: e.domain,
    receivedAt: o.receivedAt.toISOString(),
  };
  return `id: ${hub.eventId(e.seq)}\nevent: observation\ndata: ${JSON.stringify(data)}\n\n`;
}

export function streamRoutes(env: { hub: LiveHub; heartbeatMs: number }) {
  return async (app: FastifyInstance): Promise<void> => {
    const open = new Set<() => void>();
    // Streams never end on their own: close them first, or the server's close waits forever.
    app.addHook('preClose', async () => {
      for (const close of [...open]) close();
    });
    const r = app.withTypeProvider<ZodTypeProvider>();
    r.get(
      '/api/v1/stream',
      {
        schema: {
          tags: ['time series'],
          summary: 'Server-Sent Events of new observations, filtered by device, metric and domain; heartbeats; resume with Last-Event-ID',
          querystring: z.object({
            device: listParam.optional(),
            metric: listParam.optional(),
            domain: listParam.optional(),
            /** For clients that cannot set headers (EventSource cannot on first connect). */
            lastEventId: z.string().max(64).optional(),
          }),
        },
      },
      async (req, reply) => {
        const q = req.query;
        const visible = (await req.deviceScope()).restrict(q.device?.length ? q.device : undefined);
        const filter: LiveFilter = {
          devices: visible ? new Set(visible) : undefined,
          metrics: q.metric?.length ? new Set(q.metric) : undefined,
          domains: q.domain?.length ? new Set(q.domain) : undefined,
        };
        const header = req.headers['last-event-id'];
        const lastId = (Array.isArray(header) ? header[0] : header) ?? q.lastEventId;
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          // Reverse proxies (nginx) must not buffer the stream.
          'x-accel-buffering': 'no',
        });
        res.write(`retry: 3000\n: connected ${new Date().toISOString()}\n\n`);
        let closed = false;
        let release = () => {};
        const close = () => {
          if (closed) return;
          closed = true;
          open.delete(close);
          release();
          unsubscribe();
          clearInterval(beat);
          res.end();
        };
        // A token revoked or expired while the stream is open ends it.
        release = req.liveSession(close);
        const write = (text: string) => {
          if (closed) return;
          res.write(text);
          if (res.writableLength > MAX_BUFFERED_BYTES) {
            req.log.warn({ buffered: res.writableLength }, 'SSE client too slow; closing (it can resume with Last-Event-ID)');
            close();
          }
        };
        // Subscribe before replaying so nothing committed in between is lost; replayed ids
        // are then skipped by sequence.
        let replayedUpTo = 0;
        const unsubscribe = env.hub.subscribe({
          filter,
          send: (events) => write(events.filter((e) => e.seq > replayedUpTo).map((e) => frame(env.hub, e)).join('')),
        });
        if (lastId) {
          const missed = env.hub.since(lastId, filter);
          if (missed === null) {
            write(`event: reset\ndata: ${JSON.stringify({ reason: 'history_unavailable', message: 'events after this id are no longer held; re-read GET /api/v1/observations from your last time' })}\n\n`);
          } else {
            write(missed.map((e) => frame(env.hub, e)).join(''));
            replayedUpTo = missed[missed.length - 1]?.seq ?? 0;
          }
        }
        const beat = setInterval(() => write(`: heartbeat ${new Date().toISOString()}\n\n`), env.heartbeatMs);
        res.on('close', close);
        open.add(close);
      },
    );
  };
}
