/**
 * Writes the binary golden payloads of the SenML decoder (CBOR packs, RFC 8428 §6 integer
 * labels). Run `npx tsx ingest/decoders/senml/testdata/generate.ts` after changing a pack.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Encoder } from 'cbor-x';

const here = path.dirname(fileURLToPath(import.meta.url));
// Plain CBOR maps with integer keys (cbor-x adds its tag 259 only when mapsAsObjects is on).
const cbor = new Encoder({ useRecords: false, mapsAsObjects: false });
const write = (name: string, topic: string, pack: Array<Map<number, unknown>>) => {
  mkdirSync(path.join(here, name), { recursive: true });
  writeFileSync(path.join(here, name, 'topic.txt'), `${topic}\n`);
  writeFileSync(path.join(here, name, 'payload.bin'), cbor.encode(pack));
};

// bver -1, bn -2, bt -3, bu -4, n 0, u 1, v 2, vb 4, s 5, t 6 (RFC 8428 §6 Table 4).
write('cbor-pack', 'vigie/clg-cclaudel-s206/senml', [
  new Map<number, unknown>([[-1, 26], [-2, 'urn:dev:mac:0024befffe804ff2:'], [-3, 1768463990], [-4, 'Cel'], [0, 'temp'], [2, 19.75]]),
  new Map<number, unknown>([[0, 'co2'], [1, 'ppm'], [2, 1180]]),
  new Map<number, unknown>([[0, 'humidity'], [1, '%RH'], [2, 52], [6, -5]]),
  new Map<number, unknown>([[0, 'occupancy'], [4, false]]),
]);
write('cbor-truncated', 'vigie/clg-cclaudel-s206/senml', [new Map<number, unknown>([[0, 'temp'], [2, 19.75]])]);
// Cut the last bytes off: a pack that starts like CBOR but ends early.
const full = cbor.encode([new Map<number, unknown>([[0, 'temp'], [1, 'Cel'], [2, 19.75]])]);
writeFileSync(path.join(here, 'cbor-truncated', 'payload.bin'), full.subarray(0, full.length - 4));
