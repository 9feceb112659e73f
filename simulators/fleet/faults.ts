/**
 * Faults on demand, per device or fleet-wide, as real fleets produce them: dropouts, bursts
 * (a gateway emptying its store), duplicates, out-of-order and late delivery, clock skew,
 * stuck values, sentinel values, malformed payloads, counter resets and gateway reboots
 * (Sparkplug death and rebirth). Times are model times (ms).
 */
import { z } from 'zod';
import { parseDuration } from './durations.ts';

export const FAULT_TYPES = ['dropout', 'burst', 'duplicate', 'out-of-order', 'late', 'clock-skew', 'stuck', 'sentinel', 'malformed', 'counter-reset', 'gateway-reboot'] as const;

const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = typeof v === 'number' ? v * 1000 : parseDuration(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `not a duration: ${v} (use 500ms, 30s, 10m, 2h, 1d, optionally signed)` });
    return z.NEVER;
  }
  return ms;
});

/** A fault as written in a scenario or on the command line; times relative to the run start. */
export const faultSpecSchema = z
  .object({
    type: z.enum(FAULT_TYPES),
    /** Devices it hits; absent: the whole fleet. */
    devices: z.array(z.string()).optional(),
    from: duration.optional(),
    to: duration.optional(),
    /** Share of the messages hit (duplicate, out-of-order, late, sentinel, malformed); default 1. */
    probability: z.number().min(0).max(1).optional(),
    /** late: delivery delay; clock-skew: offset of the device clock (may be negative). */
    delay: duration.optional(),
    offset: duration.optional(),
    /** stuck, sentinel, counter-reset: the metric (default: every metric for stuck/sentinel). */
    metric: z.string().optional(),
    /** sentinel: the value sent (default 1001, the NTCIP 1204 "missing" of a 0.1 °C field). */
    value: z.number().optional(),
  })
  .strict();
export type FaultSpec = z.infer<typeof faultSpecSchema>;

/** A fault with absolute model times. */
export interface Fault extends Omit<FaultSpec, 'from' | 'to'> {
  from: number;
  to: number;
}

export function resolveFaults(specs: FaultSpec[], start: number): Fault[] {
  return specs.map((f) => ({ ...f, from: start + (f.from ?? 0), to: f.to === undefined ? Number.POSITIVE_INFINITY : start + f.to }));
}

/** `type[:device,device][@from[..to]][,key=value...]` on the command line, e.g. `dropout:tc-1@1h..2h`, `late@0..1h,delay=20m,probability=0.3`. */
export function parseFaultFlag(text: string): FaultSpec {
  const [head, ...opts] = text.split(',');
  const m = /^([a-z-]+)(?::([^@]+))?(?:@([^.]+)(?:\.\.(.+))?)?$/.exec(head!.trim());
  if (!m) throw new Error(`fault "${text}": expected type[:devices][@from[..to]][,key=value]`);
  const raw: Record<string, unknown> = { type: m[1], ...(m[2] ? { devices: m[2].split('+') } : {}), ...(m[3] ? { from: m[3] } : {}), ...(m[4] ? { to: m[4] } : {}) };
  for (const o of opts) {
    const [k, v] = o.split('=');
    if (!k || v === undefined) throw new Error(`fault "${text}": option "${o}" is not key=value`);
    raw[k.trim()] = ['probability', 'value'].includes(k.trim()) ? Number(v) : v.trim();
  }
  return faultSpecSchema.parse(raw);
}

export const hits = (f: Fault, device: string, t: number) => t >= f.from && t < f.to && (!f.devices || f.devices.includes(device));
