/**
 * The SenML version as a feature set (RFC 9100 §2): bver is a bitmap, bit `fc` set when the
 * feature with code `fc` is present. Version 10 (0b1010) is RFC 8428: Reserved1 (1) and
 * Reserved3 (3) always present, Reserved0 (0) and Reserved2 (2) always absent (RFC 9100 §3).
 * Vigie also implements Secondary Units (code 4, RFC 9100 §4, units of RFC 8798 §3), so it
 * uses packs of version 10 and 26; a pack indicating any other feature is not used
 * (RFC 8428 §4.4 as RFC 9100 §2.2 updates it: every feature indicated must be understood).
 */

/** RFC 9100 §6, "SenML Features" registry at the time of writing. */
const FEATURE_NAMES: Record<number, string> = { 0: 'Reserved0', 1: 'Reserved1', 2: 'Reserved2', 3: 'Reserved3', 4: 'Secondary Units' };
/** Feature codes are below 53 (RFC 9100 §2): the version fits an IEEE double exactly. */
const MAX_FEATURE_CODE = 52;
export const BASE_VERSION = 10;
export const SECONDARY_UNITS_BIT = 4;

export type VersionCheck = { ok: true; version: number; secondaryUnits: boolean } | { ok: false; reason: string };

const feature = (fc: number) => `${fc} (${FEATURE_NAMES[fc] ?? 'not in the SenML Features registry'})`;

/** Checks one bver value; `undefined` is the default, 10 (RFC 8428 §4.1). */
export function checkVersion(bver: unknown): VersionCheck {
  if (bver === undefined) return { ok: true, version: BASE_VERSION, secondaryUnits: false };
  if (typeof bver !== 'number' || !Number.isSafeInteger(bver) || bver <= 0) {
    return { ok: false, reason: `bver must be a positive integer (RFC 8428 §4.1, §6), got ${typeof bver === 'number' ? String(bver) : typeof bver}` };
  }
  const bits: number[] = [];
  for (let fc = 0; fc <= MAX_FEATURE_CODE; fc++) if (Math.floor(bver / 2 ** fc) % 2 === 1) bits.push(fc);
  const missing = [1, 3].filter((fc) => !bits.includes(fc));
  const unknown = bits.filter((fc) => fc !== 1 && fc !== 3 && fc !== SECONDARY_UNITS_BIT);
  if (missing.length === 0 && unknown.length === 0) return { ok: true, version: bver, secondaryUnits: bits.includes(SECONDARY_UNITS_BIT) };
  const list = (codes: number[]) => codes.map(feature).join(' and ');
  const parts: string[] = [];
  if (unknown.length > 0) parts.push(`${unknown.length > 1 ? 'features' : 'feature'} ${list(unknown)}, which Vigie does not implement, ${unknown.length > 1 ? 'are' : 'is'} indicated`);
  if (missing.length > 0) parts.push(`${list(missing)}, present in every version built on SenML 10 (RFC 9100 §3), ${missing.length > 1 ? 'are' : 'is'} missing`);
  return {
    ok: false,
    reason: `bver ${bver} (0b${bver.toString(2)}): ${parts.join('; ')}; Vigie uses versions 10 and 26 (10 + Secondary Units) only, so the pack is not used (RFC 8428 §4.4, RFC 9100 §2.2)`,
  };
}
