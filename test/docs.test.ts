/**
 * The manual: README.md and docs/*.md have no dead relative link (files, and #anchors against
 * the target's headings as GitHub renders them), and every setting of the configuration
 * schema (services/config.ts) is documented, by name in backticks, in one of them.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { configSchema } from '../services/config.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pages = ['README.md', ...readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const text = (p: string) => readFileSync(path.join(root, p), 'utf8');

/** Code blocks and inline code are not links. */
function prose(md: string): string {
  return md.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's heading anchors: lower case, punctuation dropped (letters, digits, spaces, - and _ kept), spaces to hyphens, duplicates numbered. */
function anchors(md: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  for (const m of md.replace(/^```[\s\S]*?^```/gm, '').matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = m[1]!
      .replace(/`/g, '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

t.test('relative links resolve', async (t) => {
  let links = 0;
  for (const page of pages) {
    const md = prose(text(page));
    for (const m of md.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)|^\[[^\]]+\]:\s*(\S+)/gm)) {
      const target = (m[1] ?? m[2])!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: …
      links++;
      const [file, anchor] = target.split('#') as [string, string | undefined];
      const resolved = file ? path.normalize(path.join(path.dirname(page), decodeURIComponent(file))) : page;
      if (!t.ok(existsSync(path.join(root, resolved)), `${page}: ${target} exists`)) continue;
      if (anchor && resolved.endsWith('.md') && statSync(path.join(root, resolved)).isFile()) {
        t.ok(anchors(text(resolved)).has(anchor), `${page}: #${anchor} is a heading of ${resolved}`);
      }
    }
  }
  t.ok(links > 0, 'links were checked');
});

t.test('every setting is documented', async (t) => {
  const all = pages.map(text).join('\n');
  for (const key of Object.keys(configSchema.shape)) t.ok(all.includes(`\`${key}\``), `${key} is documented`);
});

t.test('the anchor rule', async (t) => {
  t.ok(anchors('## Time: observed time, late data, backfill, restarts').has('time-observed-time-late-data-backfill-restarts'));
  t.ok(anchors('### `GET /api/v1/series`').has('get-apiv1series'));
  t.ok(anchors('## A\n## A').has('a-1'), 'duplicates are numbered');
});
