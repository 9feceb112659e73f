/**
 * The decoder contract (Telegraf's "parser"): bytes and topic in, readings or typed rejects
 * out. Decoders are pure functions of their input and context; they import only `schemas/`.
 * Unit conversion to the catalogue's canonical unit is the decoder's job, range and catalogue
 * checks are the normalizer's (one policy for every format).
 */
import type { QualityFlag, Reject, Device, DeviceProfile } from '../schemas/index.ts';

export interface InboundMessage {
  /** Topic with any deployment prefix already removed. */
  topic: string;
  payload: Buffer;
  receivedAt: Date;
}

export interface Reading {
  deviceId: string;
  /** Catalogue metric name; an unknown one becomes an `unknown_metric` reject. */
  metric: string;
  channel?: string;
  /** Observed time; undefined means the receive time is used (and flagged). */
  time?: Date;
  value: unknown;
  quality?: QualityFlag[];
  /** Where the value came from in the payload, for reject reasons (e.g. `channels.lane1.flow`). */
  field: string;
}

export interface DecodeResult {
  readings: Reading[];
  rejects: Reject[];
  /** Device the message came from, when the decoder could tell (for dead letters). */
  deviceId?: string;
  /** Messages the platform must publish in answer (Sparkplug B rebirth requests). */
  commands?: OutboundCommand[];
  /** Devices that went online or offline (Sparkplug B BIRTH/DEATH), stored with the batch. */
  deviceStatus?: DeviceStatusChange[];
  /** What the wire format says about a device (ChirpStack tags, names), kept on unregistered devices. */
  deviceInfo?: DeviceInfo[];
}

export interface OutboundCommand {
  /** Topic without the deployment prefix (the MQTT source adds it). */
  topic: string;
  payload: Buffer;
  qos: 0 | 1;
  /** Why it is sent, for the log. */
  reason: string;
}

export interface DeviceStatusChange {
  deviceId: string;
  online: boolean;
  at: Date;
  reason: string;
}

export interface DeviceInfo {
  deviceId: string;
  name?: string;
  tags?: Record<string, string>;
}

/**
 * State a stateful wire format keeps between messages (Sparkplug B alias tables and sequence
 * numbers, per edge node). The runtime owns one per process and passes it in, so decoders
 * stay functions of (message, context) and tests can start from any state.
 */
export type DecoderState = Map<string, unknown>;

export interface DecodeContext {
  now: Date;
  /** Registered device by id, for decoders that need a profile. */
  device(id: string): Device | undefined;
  /** Device profile by name (`ingest/profiles/*.yaml` plus VIGIE_PROFILES_DIR). */
  profile(name: string): DeviceProfile | undefined;
  /** Per-decoder state, keyed by decoder name. */
  state(decoder: string): DecoderState;
}

export interface Decoder {
  readonly name: string;
  decode(message: InboundMessage, context: DecodeContext): DecodeResult;
}
