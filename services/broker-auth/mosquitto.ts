/**
 * Mosquitto's side of the same rules the embedded broker applies: a password file
 * (`username:$7$…`, mosquitto_passwd(1)) and an ACL file (`user <name>` then
 * `topic [read|write|readwrite|deny] <filter>`, mosquitto.conf(5) "acl_file"), written from
 * Vigie's stored credentials and the ACL of services/broker-auth/acl.ts, and the shipped
 * configuration (infra/mosquitto/vigie.conf) with their paths filled in.
 */
import path from 'node:path';
import { accountNameSchema } from '../../schemas/index.ts';
import { grantsFor, vigieOnlyFilters, type Account, type AclContext } from './acl.ts';
import type { StoredCredential } from './store.ts';

export interface MosquittoInput {
  credentials: StoredCredential[];
  acl: AclContext;
  /** Vigie's own account (MQTT_USERNAME) with its `$7$` hash. */
  service: { username: string; mosquittoHash: string };
  /** infra/mosquitto/vigie.conf. */
  confTemplate: string;
  /** Where passwd and acl will live (absolute). */
  dir: string;
  port?: number;
  /** Listen address of the listener (default: every interface). */
  host?: string;
  persistenceDir?: string;
}

export interface MosquittoFiles {
  passwd: string;
  acl: string;
  conf: string;
  /** Accounts left out, with the reason. */
  notes: string[];
}

function aclBlock(username: string, account: Account, ctx: AclContext, reserved: string[]): string[] {
  const lines = [`user ${username}`];
  if (account.kind === 'vigie') return [...lines, 'topic readwrite #'];
  const g = grantsFor(account, ctx);
  // "deny" entries are handled before those that grant (mosquitto.conf(5), acl_file).
  for (const f of reserved) lines.push(`topic deny ${f}`);
  for (const f of g.publish) lines.push(`topic ${g.subscribe.includes(f) ? 'readwrite' : 'write'} ${f}`);
  for (const f of g.subscribe) if (!g.publish.includes(f)) lines.push(`topic read ${f}`);
  return lines;
}

export function mosquittoFiles(input: MosquittoInput): MosquittoFiles {
  const notes: string[] = [];
  const reserved = vigieOnlyFilters(input.acl);
  const header = '# Written by `vigie mosquitto-config` from Vigie\'s broker credentials; regenerate instead of editing.';
  const passwd = [`${input.service.username}:${input.service.mosquittoHash}`];
  const acl = [header, '', '# Vigie: ingest subscriptions, alert events, Sparkplug rebirth requests.', ...aclBlock(input.service.username, { kind: 'vigie', name: input.service.username }, input.acl, reserved)];
  const seen = new Set([input.service.username]);
  // Newest first per username (store.ts orders so): Mosquitto keeps one password per user.
  for (const c of input.credentials) {
    if (seen.has(c.username)) {
      notes.push(`${c.username}: credential ${c.id} left out (Mosquitto keeps one password per user; the newest is used)`);
      continue;
    }
    if (!accountNameSchema.safeParse(c.username).success) {
      notes.push(`${c.username}: not a valid Mosquitto username, left out`);
      continue;
    }
    seen.add(c.username);
    passwd.push(`${c.username}:${c.mosquittoHash}`);
    acl.push('', `# ${c.kind} (credential ${c.id})`, ...aclBlock(c.username, { kind: c.kind, name: c.username, ...(c.scopes ? { scopes: c.scopes } : {}) }, input.acl, reserved));
  }
  const setting = (text: string, key: string, value: string) => {
    const re = new RegExp(`^#?\\s*${key}\\s.*$`, 'm');
    return re.test(text) ? text.replace(re, `${key} ${value}`) : `${text.trimEnd()}\n${key} ${value}\n`;
  };
  let conf = input.confTemplate;
  conf = setting(conf, 'password_file', path.join(input.dir, 'passwd'));
  conf = setting(conf, 'acl_file', path.join(input.dir, 'acl'));
  if (input.port !== undefined || input.host) conf = conf.replace(/^listener\s+(\d+).*$/m, (_m, p: string) => `listener ${input.port ?? p}${input.host ? ` ${input.host}` : ''}`);
  if (input.persistenceDir) conf = setting(conf, 'persistence_location', `${input.persistenceDir.replace(/\/?$/, '/')}`);
  return { passwd: `${passwd.join('\n')}\n`, acl: `${acl.join('\n')}\n`, conf, notes };
}
