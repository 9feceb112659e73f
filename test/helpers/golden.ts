/**
 * Golden cases of the decoders (Telegraf's testdata habit): each
 * `ingest/decoders/<format>/testdata/<case>/` folder holds
 * - `topic.txt` and one payload file (`payload.json`, `payload.txt` or `payload.bin`, bytes as sent);
 * - optional `context.json`: `receivedAt`, registry `devices`, extra device `profiles` (the
 *   application context a standard leaves to the receiver), and `before`: earlier messages
 *   (`{topic, payload: <file in the case folder>, receivedAt?}`) that build decoder state
 *   (Sparkplug BIRTHs); without `receivedAt` they arrive one second apart before the message;
 * - `expected.json`: observations, dead letters (code, field, reason pattern), commands, device status.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DecoderState, InboundMessage } from '../../ingest/decoder.ts';
import { builtinDecoders, DecoderRegistry } from '../../ingest/decoders/registry.ts';
import { DEFAULT_ROUTES } from '../../ingest/default-routes.ts';
import { processMessage, type ProcessOptions, type ProcessedMessage } from '../../ingest/process-message.ts';
import { deviceProfileSchema, deviceSchema, qualityFlags, type Device, type DeviceProfile } from '../../schemas/index.ts';
import { loadProfiles } from '../../services/formats/profiles.ts';

export const DECODERS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'ingest', 'decoders');

export interface GoldenCase {
  format: string;
  name: string;
  dir: string;
  message: InboundMessage;
  before: InboundMessage[];
  devices: Device[];
  profiles: DeviceProfile[];
  expectedPath: string;
}

function readPayload(dir: string, file?: string): Buffer {
  if (file) return readFileSync(path.join(dir, file));
  for (const f of ['payload.json', 'payload.txt', 'payload.bin']) if (existsSync(path.join(dir, f))) return readFileSync(path.join(dir, f));
  throw new Error(`${dir}: no payload file`);
}

export function loadGoldenCases(): GoldenCase[] {
  const cases: GoldenCase[] = [];
  for (const format of readdirSync(DECODERS_DIR).sort()) {
    const root = path.join(DECODERS_DIR, format, 'testdata');
    if (!existsSync(root)) continue;
    for (const name of readdirSync(root).sort()) {
      const dir = path.join(root, name);
      if (!existsSync(path.join(dir, 'topic.txt'))) continue;
      const ctx = existsSync(path.join(dir, 'context.json')) ? JSON.parse(readFileSync(path.join(dir, 'context.json'), 'utf8')) : {};
      const receivedAt = new Date(ctx.receivedAt ?? '2026-01-15T08:00:05Z');
      cases.push({
        format,
        name,
        dir,
        message: { topic: readFileSync(path.join(dir, 'topic.txt'), 'utf8').trim(), payload: readPayload(dir), receivedAt },
        before: (ctx.before ?? []).map((b: { topic: string; payload: string; receivedAt?: string }, i: number) => ({
          topic: b.topic,
          payload: readPayload(dir, b.payload),
          receivedAt: b.receivedAt ? new Date(b.receivedAt) : new Date(receivedAt.getTime() - 1000 * ((ctx.before?.length ?? 0) - i)),
        })),
        devices: (ctx.devices ?? []).map((d: unknown) => deviceSchema.parse(d)),
        profiles: (ctx.profiles ?? []).map((p: unknown) => deviceProfileSchema.parse(p)),
        expectedPath: path.join(dir, 'expected.json'),
      });
    }
  }
  return cases;
}

const profiles = loadProfiles();

/** Process options as the platform builds them, with a fresh decoder state and the case's registry. */
export function goldenOptions(devices: Device[] = [], extraProfiles: DeviceProfile[] = []): ProcessOptions {
  const byId = new Map(devices.map((d) => [d.id, d]));
  const extra = new Map(extraProfiles.map((p) => [p.name, p]));
  const states = new Map<string, DecoderState>();
  return {
    routes: DEFAULT_ROUTES,
    decoders: new DecoderRegistry(builtinDecoders({ 'sparkplug-b': { rebirthMinIntervalMs: 10_000, reorderTimeoutMs: 2_000 } })),
    policy: { maxFutureMs: 300_000, maxAgeMs: 3660 * 86400_000 },
    maxPayloadBytes: 256 * 1024,
    deadLetterMaxBytes: 16 * 1024,
    context: {
      device: (id) => byId.get(id),
      profile: (name) => extra.get(name) ?? profiles.get(name),
      state: (decoder) => {
        let s = states.get(decoder);
        if (!s) states.set(decoder, (s = new Map()));
        return s;
      },
    },
  };
}

/** What a golden case compares: the store's view of one message's processing. */
export interface GoldenOutput {
  observations: Array<{ deviceId: string; metric: string; channel: string; time: string; value: number; quality: string[] }>;
  deadLetters: Array<{ code: string; field: string | null; deviceId: string | null; reason: string }>;
  commands?: Array<{ topic: string; reason: string }>;
  deviceStatus?: Array<{ deviceId: string; online: boolean; at: string; reason: string }>;
  deviceInfo?: unknown[];
}

/** Runs a case's earlier messages, then its message, on a fresh decoder state. */
export function runGoldenCase(c: GoldenCase): { out: ProcessedMessage; actual: GoldenOutput } {
  const options = goldenOptions(c.devices, c.profiles);
  for (const m of c.before) processMessage(m, options);
  const out = processMessage(c.message, options);
  const actual: GoldenOutput = {
    observations: out.observations.map((o) => ({ deviceId: o.deviceId, metric: o.metric, channel: o.channel, time: o.time.toISOString(), value: o.value, quality: qualityFlags(o.quality) })),
    deadLetters: out.deadLetters.map((d) => ({ code: d.code, field: d.field, deviceId: d.deviceId, reason: d.reason })),
    ...(out.commands ? { commands: out.commands.map((x) => ({ topic: x.topic, reason: x.reason })) } : {}),
    ...(out.deviceStatus ? { deviceStatus: out.deviceStatus.map((s) => ({ ...s, at: s.at.toISOString() })) } : {}),
    ...(out.deviceInfo ? { deviceInfo: out.deviceInfo } : {}),
  };
  return { out, actual };
}
