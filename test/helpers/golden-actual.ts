/**
 * Prints what the code produces today for one golden case (`npx tsx test/helpers/golden-actual.ts
 * senml/base-fields-units`), to compare with the hand-written expected.json. It writes no file:
 * an expectation comes from the standard's text, not from the code under test.
 */
import { loadGoldenCases, runGoldenCase } from './golden.ts';

const wanted = process.argv[2];
const found = loadGoldenCases().filter((c) => `${c.format}/${c.name}` === wanted);
if (found.length === 0) {
  process.stderr.write(`usage: golden-actual.ts <format>/<case> (no case named ${wanted ?? '(none)'})\n`);
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(runGoldenCase(found[0]!).actual, null, 2)}\n`);
