/**
 * PostgreSQL text and jsonb cannot hold U+0000 (SQLSTATE 22021, 22P05); JavaScript strings
 * can, and a topic, a device name or a tag from outside may carry it. Every text from outside
 * passes here before a statement, so one such byte cannot fail a whole commit. The byte is
 * shown escaped (`\x00`), as the ingest's dead-letter reasons show other control bytes.
 */
export function storable(text: string): string;
export function storable(text: string | null): string | null;
export function storable(text: string | null): string | null {
  return text !== null && text.includes('\u0000') ? text.replaceAll('\u0000', '\\x00') : text;
}

/** Tags with storable keys and values (a jsonb object). */
export function storableTags(tags: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags ?? {})) out[storable(k)] = storable(String(v));
  return out;
}
