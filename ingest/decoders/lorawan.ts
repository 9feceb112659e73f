/**
 * Helpers shared by the LoRaWAN network-server decoders (The Things Stack v3, ChirpStack v4):
 * both wrap a payload formatter's output in an envelope with per-gateway radio metadata.
 */
import type { Reading } from '../decoder.ts';

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
 * protobuf to JSON with zero values omitted (../shared/DOMAIN.md), so an entry with an RSSI
 * but no SNR reports an SNR of exactly 0 dB.
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
