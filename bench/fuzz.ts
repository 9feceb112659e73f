/**
 * npm run fuzz [-- --pure 100000 --platform 20000 --http 20000 --seed 1]
 *
 * The large fuzzing pass (docs/wire-formats.md, "Robustness"): generated payloads of every wire format through
 * the decode path, then published to a real platform (the machine's PostgreSQL and Mosquitto)
 * among valid messages that must all be stored, then generated query strings on every GET
 * route. Prints JSON; exits non-zero if any payload crashed, any valid message was lost or any
 * request answered 5xx.
 */
import { parseArgs } from 'node:util';
import { runFuzz } from '../test/helpers/fuzz-run.ts';

const { values } = parseArgs({
  options: { pure: { type: 'string', default: '100000' }, platform: { type: 'string', default: '20000' }, http: { type: 'string', default: '20000' }, seed: { type: 'string', default: '1' } },
});
const f = await runFuzz({ pure: Number(values.pure), platform: Number(values.platform), http: Number(values.http), seed: Number(values.seed) });
process.stdout.write(`${JSON.stringify(f, null, 2)}\n`);
const ok = f.pure.failures.length === 0 && f.platform.validStored === f.platform.valid && f.platform.healthAfter === 200 && f.http.fiveHundreds.length === 0;
process.exit(ok ? 0 : 1);
