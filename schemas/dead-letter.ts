/**
 * Why a message (or part of it) was not stored. Codes are stable: operators filter and
 * alert on them, so rename never, add freely.
 */
export const REJECT_CODES = [
  'payload_too_large',
  'invalid_json',
  'invalid_envelope',
  'invalid_topic',
  'unknown_metric',
  'invalid_value',
  'out_of_range',
  'invalid_timestamp',
  'timestamp_in_future',
  'timestamp_too_old',
  'invalid_channel',
  'invalid_device_id',
  'no_decoder',
  'decoder_error',
  'store_rejected',
  // Wire formats (LoRaWAN network servers, SenML, Sparkplug B, NGSI, device profiles).
  /** LoRaWAN uplink without a decoded payload: the network server needs a payload formatter/codec. */
  'no_decoded_payload',
  /** A payload key no profile maps to a catalogue metric (add it to the device's profile). */
  'unmapped_key',
  /** A unit Vigie cannot convert to the metric's canonical unit. */
  'unsupported_unit',
  /** Sparkplug B DATA naming an alias no BIRTH defined (a rebirth was requested). */
  'unknown_alias',
  /** Sparkplug B message out of sequence or before BIRTH (a rebirth was requested). */
  'sequence_error',
  /** A message that is well formed but holds no value Vigie stores. */
  'no_values',
  /** A SenML pack whose version indicates a feature Vigie does not implement (RFC 9100 §2.2). */
  'unsupported_version',
  /** Two values of one message would share a (device, metric, channel, time) key, e.g. two vehicle records of one lane at the same millisecond: the first is kept. */
  'duplicate_key',
] as const;
export type RejectCode = (typeof REJECT_CODES)[number];

export interface Reject {
  code: RejectCode;
  /** Human explanation: which field, what was expected, what came. */
  reason: string;
  /** JSON path-ish name of the failing field, when one failed. */
  field?: string;
  deviceId?: string;
}
