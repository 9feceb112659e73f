/**
 * The container image, checked statically (no Docker engine on CI): the Dockerfile parses
 * and lints clean (dockerfile-ast / dockerfile-utils, the parser and validator of the VS Code
 * Docker tooling), builds in two stages on Node 24 LTS, runs as a non-root user, probes
 * /health, starts `vigie start`, and copies only files that exist and that .dockerignore lets
 * into the build context.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Copy, DockerfileParser } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import t from 'tap';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const content = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
const dockerfile = DockerfileParser.parse(content);
const instructions = dockerfile.getInstructions();
const copies = instructions.filter((i): i is Copy => i instanceof Copy);
const fromStage = (c: Copy) => c.getFlags().find((f) => f.getName() === 'from')?.getValue();
const args = (keyword: string) => instructions.filter((i) => i.getKeyword() === keyword).map((i) => i.getArgumentsContent() ?? '');

t.same(validate(content).map((d) => `${d.range.start.line + 1}: ${d.message}`), [], 'no parser or lint diagnostics');

t.test('multi-stage on Node 24 LTS', async (t) => {
  const froms = dockerfile.getFROMs();
  t.ok(froms.length >= 2, 'at least two stages');
  for (const f of froms) {
    t.equal(f.getImageName(), 'node', `stage ${f.getBuildStage()} on the official node image`);
    t.match(f.getImageTag() ?? '', /^24(\.|-|$)/, `stage ${f.getBuildStage()} on Node 24`);
  }
  const stages = froms.map((f) => f.getBuildStage());
  t.equal(new Set(stages).size, stages.length, 'stage names are unique');
  const fromStages = copies.map(fromStage).filter(Boolean);
  t.ok(fromStages.length > 0, 'the runtime copies from a build stage');
  for (const s of fromStages) t.ok(stages.slice(0, -1).includes(s!), `COPY --from=${s} names an earlier stage`);
  t.match(args('RUN').join(' '), /npm ci[^&]*--omit=dev/, 'production dependencies only, from the lockfile');
});

t.test('the runtime stage', async (t) => {
  const last = dockerfile.getFROMs().at(-1)!.getRange().start.line;
  const runtime = instructions.filter((i) => i.getRange().start.line > last);
  const of = (k: string) => runtime.filter((i) => i.getKeyword() === k).map((i) => i.getArgumentsContent() ?? '');
  const user = of('USER').at(-1);
  t.ok(user && !/^(root|0)(:|$)/.test(user), `runs as a non-root user (${user})`);
  const health = of('HEALTHCHECK').at(-1) ?? '';
  t.match(health, /\/health/, 'HEALTHCHECK probes /health');
  t.notMatch(health, /curl|wget/, 'the probe uses node itself (the slim image has no curl)');
  t.same(JSON.parse(of('ENTRYPOINT').at(-1)!), ['node', 'bin/vigie.js'], 'entrypoint is the vigie CLI');
  t.same(JSON.parse(of('CMD').at(-1)!), ['start'], 'default command: vigie start');
  t.match(of('EXPOSE').join(' '), /\b3000\b/, 'HTTP port exposed');
});

t.test('every COPY source exists and is inside the build context', async (t) => {
  const ignore = readFileSync(path.join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  // .dockerignore: the last matching line wins; `!` re-includes (Docker documentation, ".dockerignore file").
  const ignored = (p: string) => {
    let out = false;
    for (const rule of ignore) {
      const neg = rule.startsWith('!');
      const pat = neg ? rule.slice(1) : rule;
      const re = new RegExp(`^${pat.replace(/\*\*\//g, '(.*/)?').replace(/\./g, '\\.').replace(/\*/g, '[^/]*')}(/.*)?$`);
      if (re.test(p)) out = !neg;
    }
    return out;
  };
  for (const c of copies) {
    if (fromStage(c)) continue;
    const parts = c.getArguments().map((a) => a.getValue());
    for (const src of parts.slice(0, -1)) {
      t.ok(existsSync(path.join(root, src)), `${src} exists`);
      t.notOk(ignored(src), `${src} is not excluded by .dockerignore`);
    }
  }
  t.ok(ignored('node_modules') && ignored('.git') && ignored('test'), 'node_modules, .git and tests stay out of the context');
});
