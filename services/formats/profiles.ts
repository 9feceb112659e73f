/**
 * Loads device profiles: the built-in ones (`ingest/profiles/*.yaml`) then VIGIE_PROFILES_DIR,
 * whose files replace built-in profiles of the same name. Read once at start; a malformed
 * file stops the start with the file and field named.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_PROFILE, deviceProfileSchema, type DeviceProfile } from '../../schemas/index.ts';
import { VigieError } from '../errors.ts';

export const BUILTIN_PROFILES_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'ingest', 'profiles');

export function loadProfileDir(dir: string): DeviceProfile[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
  } catch (err) {
    throw new VigieError('VIGIE_ERR_PROFILES', `cannot read profile folder ${dir}: ${(err as Error).message}`, { cause: err });
  }
  return files.map((f) => {
    const file = path.join(dir, f);
    let parsed: unknown;
    try {
      const text = readFileSync(file, 'utf8');
      parsed = f.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    } catch (err) {
      throw new VigieError('VIGIE_ERR_PROFILES', `profile ${file}: ${(err as Error).message}`, { cause: err });
    }
    const result = deviceProfileSchema.safeParse(parsed);
    if (!result.success) {
      const issue = result.error.issues[0]!;
      throw new VigieError('VIGIE_ERR_PROFILES', `profile ${file}: ${issue.path.join('.')}: ${issue.message}`);
    }
    return result.data;
  });
}

export function loadProfiles(extraDir?: string): Map<string, DeviceProfile> {
  const byName = new Map<string, DeviceProfile>();
  for (const p of loadProfileDir(BUILTIN_PROFILES_DIR)) byName.set(p.name, p);
  if (extraDir) for (const p of loadProfileDir(extraDir)) byName.set(p.name, p);
  if (!byName.has(DEFAULT_PROFILE)) throw new VigieError('VIGIE_ERR_PROFILES', `no "${DEFAULT_PROFILE}" profile found in ${BUILTIN_PROFILES_DIR}`);
  return byName;
}
