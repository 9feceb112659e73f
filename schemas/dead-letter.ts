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
