/** Broker credentials for a whole registry file (`vigie credentials provision`, `npm run demo`). */
import type pg from 'pg';
import { accountNameSchema } from '../../schemas/index.ts';
import { loadRegistry } from '../registry.ts';
import { createCredential, revokeCredentials } from './store.ts';

/** `format` tags (infra/demo/devices.yaml) of devices that reach the broker through a gateway. */
const GATEWAY_FORMATS = new Set(['ttn-v3', 'chirpstack-v4', 'sparkplug-b', 'sparkplug-b-device', 'ngsi']);

/**
 * One credential per registry device whose id can be a username, and per gateway with the
 * gateway's scopes; earlier ones with the same label are revoked first (re-provisioning).
 */
export async function provisionRegistry(pool: pg.Pool, registryPath: string, label: string): Promise<Record<string, string>> {
  const registry = loadRegistry(registryPath);
  await revokeCredentials(pool, { label });
  const accounts = [
    // Sparkplug devices (`group:node:device`) publish through their edge node's account, and
    // devices whose `format` tag names a network server or partner through their gateway's.
    ...registry.devices
      .filter((d) => accountNameSchema.safeParse(d.id).success && !GATEWAY_FORMATS.has(d.tags.format ?? ''))
      .map((d) => ({ kind: 'device' as const, username: d.id, label })),
    ...registry.gateways.map((g) => ({ kind: 'gateway' as const, username: g.id, scopes: { tts: g.tts, chirpstack: g.chirpstack, sparkplug: g.sparkplug, ngsi: g.ngsi }, label })),
  ];
  const created = await Promise.all(accounts.map((a) => createCredential(pool, a)));
  const passwords = Object.fromEntries(created.map((c) => [c.credential.username, c.secret]));
  return passwords;
}
