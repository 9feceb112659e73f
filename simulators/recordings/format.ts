/**
 * Recordings: NDJSON, one MQTT message per line, gzip-compressed when the file name ends in
 * `.gz`. The first line is a header naming the format version; every other line is
 * `{"t": receive time ISO 8601, "topic", "qos": 0|1|2, "retain": bool, "payload": base64}`.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip, createGzip } from 'node:zlib';
import type { Writable } from 'node:stream';
import { z } from 'zod';

export const recordingHeaderSchema = z.object({
  vigieRecording: z.literal(1),
  createdAt: z.string(),
  source: z.string().optional(),
  filters: z.array(z.string()).optional(),
  note: z.string().optional(),
});
export type RecordingHeader = z.infer<typeof recordingHeaderSchema>;

export const recordedMessageSchema = z.object({
  t: z.string(),
  topic: z.string().min(1),
  qos: z.union([z.literal(0), z.literal(1), z.literal(2)]),
  retain: z.boolean(),
  payload: z.string(),
});
export type RecordedLine = z.infer<typeof recordedMessageSchema>;

export interface RecordedMessage {
  /** Receive time, ms. */
  t: number;
  topic: string;
  qos: 0 | 1 | 2;
  retain: boolean;
  payload: Buffer;
}

export function toLine(m: RecordedMessage): string {
  return JSON.stringify({ t: new Date(m.t).toISOString(), topic: m.topic, qos: m.qos, retain: m.retain, payload: m.payload.toString('base64') });
}

export interface RecordingWriter {
  write(m: RecordedMessage): void;
  /** Bytes written so far (before compression). */
  readonly bytes: number;
  close(): Promise<void>;
}

export function openWriter(file: string, header: Omit<RecordingHeader, 'vigieRecording'>, gzip = file.endsWith('.gz')): RecordingWriter {
  const fileStream = createWriteStream(file);
  const out: Writable = gzip ? createGzip() : fileStream;
  if (gzip) (out as ReturnType<typeof createGzip>).pipe(fileStream);
  let bytes = 0;
  const put = (s: string) => {
    bytes += Buffer.byteLength(s) + 1;
    out.write(`${s}\n`);
  };
  put(JSON.stringify({ vigieRecording: 1, ...header }));
  return {
    write: (m) => put(toLine(m)),
    get bytes() {
      return bytes;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        fileStream.once('finish', () => resolve());
        fileStream.once('error', reject);
        out.end();
      }),
  };
}

/** Reads a recording (gzip detected from its magic bytes), message by message. */
export async function* readRecording(file: string): AsyncGenerator<RecordedMessage> {
  const head = await new Promise<Buffer>((resolve, reject) => {
    const s = createReadStream(file, { start: 0, end: 1 });
    const parts: Buffer[] = [];
    s.on('data', (c) => parts.push(c as Buffer));
    s.on('end', () => resolve(Buffer.concat(parts)));
    s.on('error', reject);
  });
  const raw = createReadStream(file);
  const input = head[0] === 0x1f && head[1] === 0x8b ? raw.pipe(createGunzip()) : raw;
  let n = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    n++;
    if (!line.trim()) continue;
    const json = JSON.parse(line) as Record<string, unknown>;
    if ('vigieRecording' in json) {
      recordingHeaderSchema.parse(json);
      continue;
    }
    const parsed = recordedMessageSchema.safeParse(json);
    if (!parsed.success) throw new Error(`${file}:${n}: not a recorded message (${parsed.error.issues[0]?.message})`);
    const t = Date.parse(parsed.data.t);
    if (Number.isNaN(t)) throw new Error(`${file}:${n}: t is not a date-time`);
    yield { t, topic: parsed.data.topic, qos: parsed.data.qos, retain: parsed.data.retain, payload: Buffer.from(parsed.data.payload, 'base64') };
  }
}
