/** `vigie record`: live MQTT traffic into a recording, with topic filters and a size or duration limit. */
import { connect, type BrokerConnection } from '../fleet/connection.ts';
import { createProgress, rate } from '../fleet/progress.ts';
import { openWriter } from './format.ts';

export interface RecordOptions {
  broker: BrokerConnection;
  file: string;
  filters: string[];
  gzip?: boolean;
  maxBytes?: number;
  maxMessages?: number;
  durationMs?: number;
  progress?: boolean;
  /** Resolves when the caller wants to stop (SIGINT by default). */
  stop?: Promise<void>;
  /** Called once the subscription is in place (tests start publishing then). */
  onReady?: () => void;
}

export async function record(o: RecordOptions): Promise<{ messages: number; bytes: number; stoppedBy: string }> {
  const writer = openWriter(o.file, { createdAt: new Date().toISOString(), source: o.broker.url, filters: o.filters }, o.gzip ?? o.file.endsWith('.gz'));
  const client = await connect(o.broker, `rec-${process.pid}`);
  const progress = createProgress(o.progress ?? true);
  const started = Date.now();
  let messages = 0;
  let stoppedBy = 'signal';
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  client.on('message', (topic, payload, packet) => {
    if (messages >= (o.maxMessages ?? Infinity) || writer.bytes >= (o.maxBytes ?? Infinity)) return;
    writer.write({ t: Date.now(), topic, qos: packet.qos, retain: packet.retain, payload });
    messages++;
    progress.update(`recording ${o.file}: ${messages} messages, ${(writer.bytes / 1024).toFixed(0)} KiB, ${rate(messages, Date.now() - started)} msg/s`);
    if (messages >= (o.maxMessages ?? Infinity)) (stoppedBy = 'message limit'), finish();
    else if (writer.bytes >= (o.maxBytes ?? Infinity)) (stoppedBy = 'size limit'), finish();
  });
  await client.subscribeAsync(o.filters.map((f) => ({ topic: f, qos: 1 as const })).reduce((a, f) => ({ ...a, [f.topic]: { qos: f.qos } }), {}));
  o.onReady?.();
  const timer = o.durationMs !== undefined ? setTimeout(() => ((stoppedBy = 'duration'), finish()), o.durationMs) : undefined;
  const onSignal = () => finish();
  if (!o.stop) process.once('SIGINT', onSignal);
  await Promise.race([finished, o.stop ?? new Promise<void>(() => {})]);
  if (timer) clearTimeout(timer);
  process.removeListener('SIGINT', onSignal);
  await client.endAsync();
  await writer.close();
  progress.done(`recorded ${messages} messages (${(writer.bytes / 1024).toFixed(0)} KiB) to ${o.file} in ${((Date.now() - started) / 1000).toFixed(1)} s, stopped by ${stoppedBy}`);
  return { messages, bytes: writer.bytes, stoppedBy };
}
