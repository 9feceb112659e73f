/**
 * Helpers shared by the LoRaWAN network-server decoders (The Things Stack v3, ChirpStack v4):
 * both wrap a payload formatter's output in an envelope with per-gateway radio metadata.
 */
import type { Reject } from '../../schemas/index.ts';
import type { Reading } from '../decoder.ts';
import { flatten, type KeyedValue } from '../profiles/map-keys.ts';

export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

interface GatewayRx {
  rssi?: unknown;
  snr?: unknown;
}

/**
 * Link quality of an uplink heard by several gateways: the best RSSI and the SNR of that same
 * gateway (the path the network server would answer through). Both network servers marshal
 * protobuf to JSON with zero values omitted (The Things Stack docs, "Data Formats": "if a
 * certain field has a value of "", 0 or false it will not be present"; ChirpStack docs, "Event
 * types": "JSON based on the Protocol Buffers JSON mapping"), so an entry with an RSSI but no
 * SNR reports an SNR of exactly 0 dB.
 */
export function linkQuality(rx: unknown, deviceId: string, field: string, time: Date | undefined): Reading[] {
  if (!Array.isArray(rx)) return [];
  let best: { rssi: number; snr: number; index: number } | undefined;
  rx.forEach((entry: GatewayRx, index) => {
    if (!isObject(entry) || typeof entry.rssi !== 'number' || !Number.isFinite(entry.rssi)) return;
    const snr = entry.snr === undefined ? 0 : typeof entry.snr === 'number' ? entry.snr : Number.NaN;
    if (!best || entry.rssi > best.rssi) best = { rssi: entry.rssi, snr, index };
  });
  if (!best) return [];
  return [
    { deviceId, metric: 'rssi', channel: '', time, value: best.rssi, field: `${field}.${best.index}.rssi` },
    { deviceId, metric: 'snr', channel: '', time, value: best.snr, field: `${field}.${best.index}.snr` },
  ];
}

export interface FormatterOutput {
  /** The decoded object: `uplink_message.decoded_payload` (TTS) or `object` (ChirpStack). */
  decoded: unknown;
  fPort: unknown;
  /** The raw frame payload, base64. */
  raw: unknown;
  field: string;
  portName: string;
  rawName: string;
  /** What the operator must configure on the network server. */
  fix: string;
  deviceId: string;
  time: Date | undefined;
}

/**
 * The payload formatter's (codec's) output as keyed values. Absent on an application port, it
 * is a `no_decoded_payload` reject saying what to configure; absent on port 0 (omitted as a
 * zero value: MAC commands only) there is simply nothing to read.
 */
export function formatterOutput(o: FormatterOutput): { entries: KeyedValue[]; reject?: Reject } {
  const fPort = o.fPort ?? 0;
  if (o.decoded === undefined) {
    if (fPort === 0) return { entries: [] };
    const size = typeof o.raw === 'string' ? Buffer.from(o.raw, 'base64').length : 0;
    return {
      entries: [],
      reject: { code: 'no_decoded_payload', field: o.field, deviceId: o.deviceId, reason: `${o.field}: absent (${o.portName} ${String(fPort)}, ${size} bytes in ${o.rawName}); ${o.fix}, then replay` },
    };
  }
  if (!isObject(o.decoded)) return { entries: [], reject: { code: 'invalid_envelope', field: o.field, deviceId: o.deviceId, reason: `${o.field}: expected an object` } };
  return { entries: flatten(o.decoded, `${o.field}.`).map((e) => ({ ...e, time: o.time })) };
}
