/**
 * Server-Sent Events (WHATWG HTML, "Server-sent events") for every stream of the API: one
 * place for the headers, the heartbeat, the bounds and the shutdown.
 *
 * - Connections are capped (VIGIE_STREAM_MAX_CLIENTS), in all and per identity (`identify`):
 *   past the cap a client gets 503 `VIGIE_ERR_STREAM_FULL` with Retry-After.
 * - Bytes waiting for one client are capped (VIGIE_STREAM_MAX_BUFFER_BYTES, plus the frames of
 *   one commit, which a client that keeps up takes at once): a client that does not read is
 *   destroyed (not ended: `end()` would keep the unsent bytes until they drain,
 *   which a stalled client never does). So is one that has drained nothing for a whole
 *   heartbeat interval, whose kernel send buffer would otherwise stay pinned. Reasons, in the
 *   log and the metrics: `too_slow`, `stalled`, `shutdown`.
 * - Large writes (a Last-Event-ID replay) are pulled piece by piece as the socket drains,
 *   never queued whole.
 * - Streams never end on their own: every open one is destroyed on Fastify's `preClose`, so a
 *   connected client never holds up a graceful shutdown.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';

export interface SseLimits {
  maxClients: number;
  /** Cap per identity (`identify`); defaults to `maxClients`. */
  maxClientsPerIdentity?: number;
  maxBufferedBytes: number;
  heartbeatMs: number;
}

export interface SseOptions extends SseLimits {
  /**
   * Who is asking, for the per-identity cap (the platform passes the authenticated subject);
   * null counts against the total cap only.
   */
  identify?: (req: FastifyRequest) => string | null;
  /** Told of each stream the server cut (too slow, stalled, shutdown), for the metrics. */
  onDestroyed?: (reason: string) => void;
}

export interface SseConnection {
  /** Queues one or more frames; the connection is destroyed if the client is too slow. */
  send(text: string): void;
  /** Frames produced as the socket drains (a replay): nothing is built ahead of the socket. */
  sendLazily(frames: Iterator<string>): void;
  onClose(listener: () => void): void;
  readonly closed: boolean;
}

/** The shared connection registry: one per HTTP server, so the caps span every stream. */
export class SseHub {
  private readonly open = new Set<SseStream>();
  private readonly perIdentity = new Map<string, number>();

  constructor(private readonly options: SseOptions) {}

  get size(): number {
    return this.open.size;
  }

  /** The per-client byte cap, also the most one Last-Event-ID replay may send. */
  get maxBufferedBytes(): number {
    return this.options.maxBufferedBytes;
  }

  /** Registers the `preClose` hook on the app that serves streams (call once per plugin). */
  install(app: FastifyInstance): void {
    app.addHook('preClose', async () => {
      for (const s of [...this.open]) s.destroy('shutdown');
    });
  }

  /**
   * Takes over the response as an event stream, or answers 503 when the caps are reached
   * (then returns null).
   */
  accept(req: FastifyRequest, reply: FastifyReply, first = ''): SseConnection | null {
    const o = this.options;
    const identity = o.identify?.(req) ?? null;
    const mine = identity === null ? 0 : (this.perIdentity.get(identity) ?? 0);
    if (this.open.size >= o.maxClients || (identity !== null && mine >= (o.maxClientsPerIdentity ?? o.maxClients))) {
      void reply
        .status(503)
        .header('retry-after', '30')
        .send({ code: 'VIGIE_ERR_STREAM_FULL', message: `too many open streams (VIGIE_STREAM_MAX_CLIENTS=${o.maxClients}${identity === null ? '' : `, per identity ${o.maxClientsPerIdentity ?? o.maxClients}`}); retry later` });
      return null;
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // Reverse proxies (nginx) must not buffer the stream.
      'x-accel-buffering': 'no',
    });
    const stream = new SseStream(res, o, req, (reason) => o.onDestroyed?.(reason), () => {
      this.open.delete(stream);
      if (identity !== null) {
        const n = (this.perIdentity.get(identity) ?? 1) - 1;
        if (n > 0) this.perIdentity.set(identity, n);
        else this.perIdentity.delete(identity);
      }
    });
    this.open.add(stream);
    if (identity !== null) this.perIdentity.set(identity, mine + 1);
    // A token revoked or expired while the stream is open ends it (services/auth/http.ts).
    const release = req.liveSession?.(() => stream.destroy('revoked'));
    if (release) stream.onClose(release);
    if (first) stream.send(first);
    return stream;
  }
}

class SseStream implements SseConnection {
  private readonly queue: Array<string | Iterator<string>> = [];
  /** Bytes of the queued strings (lazy frames are not built yet, so they hold nothing). */
  private queuedBytes = 0;
  private readonly listeners: Array<() => void> = [];
  private readonly beat: NodeJS.Timeout;
  private drainedSinceBeat = true;
  closed = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly o: SseLimits,
    private readonly req: FastifyRequest,
    private readonly destroyed: (reason: string) => void,
    private readonly forget: () => void,
  ) {
    res.on('drain', () => {
      this.drainedSinceBeat = true;
      this.flush();
    });
    res.on('close', () => this.finish());
    this.beat = setInterval(() => {
      if (this.res.writableNeedDrain && !this.drainedSinceBeat) {
        this.destroy('stalled');
        return;
      }
      this.drainedSinceBeat = !this.res.writableNeedDrain;
      this.send(`: heartbeat ${new Date().toISOString()}\n\n`);
    }, o.heartbeatMs);
    this.beat.unref();
  }

  send(text: string): void {
    if (this.closed || text.length === 0) return;
    // A client that keeps up takes a whole commit's frames at once, however large; the bound
    // is on the backlog of one that does not.
    if (this.queue.length === 0 && !this.res.writableNeedDrain) {
      this.res.write(text);
      return;
    }
    this.queue.push(text);
    this.queuedBytes += Buffer.byteLength(text);
    this.checkBound();
  }

  sendLazily(frames: Iterator<string>): void {
    if (this.closed) return;
    this.queue.push(frames);
    this.flush();
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.listeners.push(listener);
  }

  destroy(reason: string): void {
    if (this.closed) return;
    this.req.log.warn({ reason, buffered: this.res.writableLength + this.queuedBytes }, 'SSE stream closed by the server (the client can resume with Last-Event-ID)');
    this.res.destroy();
    this.finish();
    this.destroyed(reason);
  }

  private flush(): void {
    while (!this.closed && this.queue.length > 0 && !this.res.writableNeedDrain) {
      const head = this.queue[0]!;
      if (typeof head === 'string') {
        this.queue.shift();
        this.queuedBytes -= Buffer.byteLength(head);
        this.res.write(head);
        continue;
      }
      const next = head.next();
      if (next.done) this.queue.shift();
      else this.res.write(next.value);
    }
    this.checkBound();
  }

  private checkBound(): void {
    if (!this.closed && this.res.writableLength + this.queuedBytes > this.o.maxBufferedBytes) this.destroy('too_slow');
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.beat);
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.forget();
    for (const l of this.listeners.splice(0)) l();
  }
}
