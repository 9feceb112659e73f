/** `GET /api/v1/stream`: Server-Sent Events of new observations (WHATWG HTML, "Server-sent events"). */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { METRICS, isMetricName } from '../../../schemas/index.ts';
import { listParam } from '../../api/query-params.ts';
import type { SseHub } from '../../api/sse.ts';
import type { LiveEvent, LiveFilter, LiveHub } from '../live-hub.ts';

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

/**
 * Every stream sends the same frames: each is built once (kept with its event while the ring
 * holds it), and the text of one commit once for all the streams that get all of it, rather
 * than once per stream.
 */
class Frames {
  private readonly built = new WeakMap<LiveEvent, string>();
  private lastKey = '';
  private lastText = '';

  constructor(private readonly hub: LiveHub) {}

  of(e: LiveEvent): string {
    let f = this.built.get(e);
    if (f === undefined) this.built.set(e, (f = frame(this.hub, e)));
    return f;
  }

  text(events: LiveEvent[]): string {
    if (events.length === 0) return '';
    const first = events[0]!.seq;
    const last = events[events.length - 1]!.seq;
    // Only a run without gaps is known by its ends; a filtered selection is joined afresh.
    if (last - first + 1 !== events.length) return events.map((e) => this.of(e)).join('');
    const key = `${first}-${last}`;
    if (key !== this.lastKey) {
      this.lastKey = key;
      this.lastText = events.map((e) => this.of(e)).join('');
    }
    return this.lastText;
  }

  /** Replayed frames are built a few at a time, as the client's socket drains. */
  *lazily(events: LiveEvent[]): Generator<string> {
    for (let i = 0; i < events.length; i += 100) yield events.slice(i, i + 100).map((e) => this.of(e)).join('');
  }
}

export function streamRoutes(env: { hub: LiveHub; sse: SseHub }) {
  return async (app: FastifyInstance): Promise<void> => {
    env.sse.install(app);
    const frames = new Frames(env.hub);
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
        // Only devices the caller may see (services/auth/scope.ts): a filter can narrow, never widen.
        const visible = (await req.deviceScope()).restrict(q.device?.length ? q.device : undefined);
        const filter: LiveFilter = {
          devices: visible ? new Set(visible) : undefined,
          metrics: q.metric?.length ? new Set(q.metric) : undefined,
          domains: q.domain?.length ? new Set(q.domain) : undefined,
        };
        const header = req.headers['last-event-id'];
        const lastId = (Array.isArray(header) ? header[0] : header) ?? q.lastEventId;
        const conn = env.sse.accept(req, reply, `retry: 3000\n: connected ${new Date().toISOString()}\n\n`);
        if (!conn) return reply;
        // Subscribe before replaying so nothing committed in between is lost; replayed ids
        // are then skipped by sequence.
        let replayedUpTo = 0;
        const unsubscribe = env.hub.subscribe({
          filter,
          send: (events) => conn.send(frames.text(replayedUpTo ? events.filter((e) => e.seq > replayedUpTo) : events)),
        });
        conn.onClose(unsubscribe);
        if (lastId) {
          const missed = env.hub.since(lastId, filter);
          if (missed === null) {
            conn.send(`event: reset\ndata: ${JSON.stringify({ reason: 'history_unavailable', message: 'events after this id are no longer held; re-read GET /api/v1/observations from your last time' })}\n\n`);
          } else {
            // The kernel, not Vigie, buffers what a socket accepted: a replay larger than the
            // per-client cap could pin megabytes per stalled client there. Past the cap the
            // client is told to re-read the gap from the REST API instead.
            let bytes = 0;
            for (const e of missed) if ((bytes += Buffer.byteLength(frames.of(e))) > env.sse.maxBufferedBytes) break;
            if (bytes > env.sse.maxBufferedBytes) {
              conn.send(`event: reset\ndata: ${JSON.stringify({ reason: 'replay_too_large', message: `more than VIGIE_STREAM_MAX_BUFFER_BYTES (${env.sse.maxBufferedBytes}) of events were missed; re-read GET /api/v1/observations from your last time` })}\n\n`);
            } else conn.sendLazily(frames.lazily(missed));
            replayedUpTo = missed[missed.length - 1]?.seq ?? 0;
          }
        }
      },
    );
  };
}
