/** ajv for the committed third-party JSON schemas of test/fixtures/schemas (see its README). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'schemas');
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export function schemaValidator(file: string): ValidateFunction {
  const schema = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Record<string, unknown>;
  // The Kubernetes schemas name the draft-04 meta-schema by its old alias; the keywords they use
  // mean the same in the draft ajv implements. OpenAPI formats (int32, int64, byte...) are not
  // JSON Schema formats: unknown formats are ignored (strict off), known ones checked.
  delete schema.$schema;
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv.compile(schema);
}

export function errorsOf(v: ValidateFunction): string[] {
  return (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`);
}
