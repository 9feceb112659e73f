/** A message in Vigie's native shape and canonical units, before a wire format encodes it. */
export interface NativeMessage {
  ts: string;
  metrics?: Record<string, number>;
  channels?: Record<string, Record<string, number>>;
  /** Light-vehicle counts per speed class, per lane (the input of a true V85). */
  speedClasses?: Record<string, { bounds: number[]; counts: number[] }>;
  /** Individual vehicle records per lane. */
  vehicles?: Record<string, Array<{ t: string; speed: number; headway?: number; heavy?: boolean }>>;
}

export const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;
export const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
