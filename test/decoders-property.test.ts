/**
 * Property-based robustness of every decoder (fast-check): random bytes, random JSON, random
 * Sparkplug payloads and mutations of the golden payloads (generators in test/helpers/fuzz.ts,
 * shared with the abuse suite and `npm run fuzz`). For every input: the decoder never throws
 * (no `decoder_error`), and the message ends as observations, dead letters or a device
 * status/info change; every observation is a valid canonical observation.
 */
import fc from 'fast-check';
import sparkplug from 'sparkplug-payload';
import t from 'tap';
import { processMessage } from '../ingest/process-message.ts';
import { checkOutcome, goldenMutation, randomBytesMessage, randomJsonMessage, runMutation, sparkplugStream } from './helpers/fuzz.ts';
import { goldenOptions, loadGoldenCases } from './helpers/golden.ts';

const spb = sparkplug.get('spBv1.0')!;
const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);

t.test('random bytes on every format topic', async (t) => {
  const options = goldenOptions();
  fc.assert(fc.property(randomBytesMessage, (m) => checkOutcome(processMessage(m, options))), { numRuns: RUNS });
  t.pass(`${RUNS} random payloads`);
});

t.test('random JSON on every JSON format topic', async (t) => {
  const options = goldenOptions();
  fc.assert(fc.property(randomJsonMessage, (m) => checkOutcome(processMessage(m, options))), { numRuns: RUNS });
  t.pass(`${RUNS} random JSON documents`);
});

t.test('mutated golden payloads (structure and bytes)', async (t) => {
  const cases = loadGoldenCases();
  fc.assert(fc.property(goldenMutation(cases), (m) => checkOutcome(runMutation(m))), { numRuns: RUNS * 3 });
  t.pass(`${RUNS * 3} mutations of ${cases.length} golden payloads`);
});

t.test('random well-formed Sparkplug B streams keep state consistent', async (t) => {
  let commands = 0;
  fc.assert(
    fc.property(sparkplugStream, (stream) => {
      const options = goldenOptions();
      for (const m of stream) {
        const out = processMessage(m, options);
        checkOutcome(out);
        for (const c of out.commands ?? []) {
          commands += 1;
          if (c.topic !== 'spBv1.0/g/NCMD/n') throw new Error(`rebirth sent to ${c.topic}`);
          const decoded = spb.decodePayload(c.payload);
          if (decoded.metrics?.[0]?.name !== 'Node Control/Rebirth' || decoded.metrics[0].value !== true) throw new Error('malformed rebirth request');
        }
      }
    }),
    { numRuns: RUNS },
  );
  t.ok(commands > 0, `rebirth requests were exercised (${commands})`);
});
