/**
 * The decoder contract (Telegraf's "parser"): bytes and topic in, readings or typed rejects
 * out. Decoders are pure functions of their input and context; they import only `schemas/`.
 * Unit conversion to the catalogue's canonical unit is the decoder's job, range and catalogue
 * checks are the normalizer's (one policy for every format).
 */
import type { QualityFlag, Reject, Device } from '../schemas/index.ts';

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
}

export interface DecodeContext {
  now: Date;
  /** Registered device by id, for decoders that need a profile. */
  device(id: string): Device | undefined;
}

export interface Decoder {
  readonly name: string;
  decode(message: InboundMessage, context: DecodeContext): DecodeResult;
}
