/**
 * A small fuzzing pass on every run of the suite (`npm run fuzz` runs the large one): generated
 * payloads of every wire format never crash the decode path or the platform, every valid message
 * published among them is stored, and generated query strings never answer 5xx.
 */
import t from 'tap';
import { runFuzz } from '../helpers/fuzz-run.ts';

const f = await runFuzz({ pure: 4000, platform: 1500, http: 1700, seed: 20261129 });
t.same(f.pure.failures, [], `${f.pure.payloads} generated payloads decoded without a crash, each with an outcome`);
t.equal(f.platform.validStored, f.platform.valid, `${f.platform.valid} valid messages among ${f.platform.garbage} generated ones, all stored`);
t.ok(f.platform.deadLetters > 0, 'garbage became dead letters');
t.equal(f.platform.healthAfter, 200, 'the platform still answers');
t.same(f.http.fiveHundreds, [], `${f.http.requests} generated query strings, none answered 5xx`);
