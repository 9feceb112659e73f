/** Durations as people write them: 500ms, 30s, 10m, 2h, 1d, combined (1h30m), optionally signed. */
export function parseDuration(text: string): number | undefined {
  const m = /^([+-])?((?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+)$/.exec(text.trim());
  if (!m) return undefined;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let total = 0;
  for (const p of m[2]!.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(p[1]) * unit[p[2]!]!;
  return m[1] === '-' ? -total : total;
}

/** An instant: `now`, ISO 8601 with a zone, or a duration relative to now (`-6h`). */
export function parseInstant(text: string, now = Date.now()): number {
  if (text === 'now') return now;
  const rel = parseDuration(text);
  if (rel !== undefined && /^[+-]/.test(text)) return now + rel;
  if (!/(Z|[+-]\d\d:?\d\d)$/.test(text)) throw new Error(`"${text}": an instant needs a zone (Z or +01:00), or is "now" or relative (-6h)`);
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new Error(`"${text}" is not a date-time`);
  return t;
}
