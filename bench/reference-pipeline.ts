/**
 * The reference for bench:ingest: the smallest correct MQTT-to-PostgreSQL pipeline (QoS 1,
 * JSON, batched idempotent insert, PUBACK only after commit), with nothing else. Vigie's rate is
 * reported as a ratio of this one, measured in the same run on the same broker and server.
 *
 * mqtt.js sends the PUBACK when the message handler calls back and reads the next packet only
 * then, so holding the callback would serialise everything: the PUBACK itself is held instead
 * (released after the commit) and the handler calls back at once; in-flight messages are
 * bounded by MQTT 5 Receive Maximum, as in Vigie.
 */
import mqtt from 'mqtt';
import pg from 'pg';

/** Subscribes, then resolves `stored` once `expected` rows are committed (or at the deadline). */
export async function startReference(brokerUrl: string, dbUrl: string, filter: string, expected: number, deadlineMs = 300_000, receiveMaximum = 10_000): Promise<{ stored: Promise<number> }> {
  const pool = new pg.Pool({ connectionString: dbUrl, max: 2 });
  await pool.query(`create table if not exists reference_observations (device text, metric text, time timestamptz, value float8, primary key (device, metric, time))`);
  const client = await mqtt.connectAsync(brokerUrl, { clientId: `ref-${Math.random().toString(36).slice(2, 8)}`, protocolVersion: 5, clean: true, properties: { receiveMaximum } });
  const c = client as unknown as { _sendPacket: (p: { cmd: string; messageId?: number }, cb?: () => void) => void };
  const send = c._sendPacket.bind(client);
  const held: Array<{ cmd: string; messageId?: number }> = [];
  c._sendPacket = (p, cb) => (p.cmd === 'puback' ? (held.push(p), cb?.()) : send(p, cb));
  let rows: { d: string[]; m: string[]; t: string[]; v: number[] } = { d: [], m: [], t: [], v: [] };
  let acks = 0;
  let stored = 0;
  let committing: Promise<void> | null = null;
  const flush = async (): Promise<void> => {
    if (committing || rows.d.length === 0) return;
    const batch = rows;
    const pubacks = held.splice(0, acks);
    rows = { d: [], m: [], t: [], v: [] };
    acks = 0;
    committing = pool
      .query(`insert into reference_observations select * from unnest($1::text[], $2::text[], $3::timestamptz[], $4::float8[]) on conflict do nothing`, [batch.d, batch.m, batch.t, batch.v])
      .then((r) => {
        stored += r.rowCount ?? 0;
        for (const p of pubacks) send(p);
      })
      .finally(() => {
        committing = null;
        if (rows.d.length >= 5000) void flush();
      });
  };
  const timer = setInterval(() => void flush(), 20);
  client.handleMessage = (packet, cb) => {
    const device = packet.topic.split('/').at(-2)!;
    const msg = JSON.parse(packet.payload.toString()) as { ts: number; metrics: Record<string, number> };
    const t = new Date(msg.ts).toISOString();
    for (const [m, v] of Object.entries(msg.metrics)) {
      rows.d.push(device);
      rows.m.push(m);
      rows.t.push(t);
      rows.v.push(v);
    }
    acks++;
    if (rows.d.length >= 5000) void flush();
    cb();
  };
  await client.subscribeAsync(filter, { qos: 1 });
  const deadline = Date.now() + deadlineMs;
  const finished = (async () => {
    while (stored < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    clearInterval(timer);
    await client.endAsync();
    await pool.end();
    return stored;
  })();
  return { stored: finished };
}
