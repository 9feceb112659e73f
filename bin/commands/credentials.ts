/**
 * `vigie device|gateway|integration credentials create|list|revoke` and `vigie credentials
 * provision`: broker accounts in Vigie's database (services/broker-auth/store.ts). A secret is
 * printed once, at creation, and never stored; the embedded broker reads the accounts at
 * once, Mosquitto after `vigie mosquitto-config`.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { AccountKind, GatewayScopes } from '../../schemas/index.ts';
import { provisionRegistry } from '../../services/broker-auth/provision.ts';
import { createCredential, listCredentials, revokeCredentials, type CredentialRow } from '../../services/broker-auth/store.ts';
import { loadConfig, type Config } from '../../services/config.ts';
import { createLogger } from '../../services/logger.ts';
import { loadRegistry } from '../../services/registry.ts';
import { openDatabase } from './database.ts';

const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

export async function runWithDatabase<T>(work: (config: Config, pool: import('pg').Pool) => Promise<T>): Promise<T> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`vigie: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const logger = createLogger(process.env.VIGIE_LOG_LEVEL || 'warn');
  try {
    const db = await openDatabase(config, logger);
    try {
      return await work(config, db.pool);
    } finally {
      await db.close();
    }
  } catch (err) {
    process.stderr.write(`vigie: ${(err as Error).message}\n`);
    process.exit(1);
  }
}

function printList(rows: CredentialRow[], json: boolean): void {
  if (json) return out(JSON.stringify(rows, null, 2));
  if (rows.length === 0) return out('no credentials');
  for (const r of rows) {
    const scopes = r.scopes ? ` ${JSON.stringify(r.scopes)}` : '';
    out(`${r.id}  ${r.kind.padEnd(11)} ${r.username}  created ${r.createdAt}${r.revokedAt ? `  REVOKED ${r.revokedAt}` : ''}${r.label ? `  [${r.label}]` : ''}${scopes}`);
  }
}

function printCreated(c: { credential: CredentialRow; secret: string }, json: boolean): void {
  if (json) return out(JSON.stringify({ id: c.credential.id, username: c.credential.username, password: c.secret }));
  out(`credential ${c.credential.id} for ${c.credential.kind} ${c.credential.username}`);
  out(`  MQTT username  ${c.credential.username}`);
  out(`  MQTT password  ${c.secret}`);
  process.stderr.write('The password is shown once and stored only as a hash: give it to the device now.\n');
}

const collect = (v: string, prev: string[]) => [...prev, v];

function registerKind(program: Command, kind: AccountKind, noun: string, what: string): void {
  const creds = program.command(noun).description(`${what}`).command('credentials').description(`MQTT broker credentials of a ${noun}`);
  const create = creds
    .command('create <name>')
    .description(`create a credential for a ${noun} (prints its password once)`)
    .option('--label <text>', 'free note kept with the credential')
    .option('--json', 'print {id, username, password} as JSON');
  if (kind === 'gateway') {
    create
      .option('--tts <application>', 'The Things Stack application (repeatable)', collect, [])
      .option('--chirpstack <application>', 'ChirpStack application id (repeatable)', collect, [])
      .option('--sparkplug <group/node>', 'Sparkplug B edge node (repeatable)', collect, [])
      .option('--ngsi', 'NGSI notifications on the NGSI topic');
  }
  create.action(async (name: string, opts: { label?: string; json?: boolean; tts?: string[]; chirpstack?: string[]; sparkplug?: string[]; ngsi?: boolean }) => {
    await runWithDatabase(async (config, pool) => {
      const registry = loadRegistry(config.registryPath);
      let scopes: GatewayScopes | undefined;
      if (kind === 'gateway') {
        const given = { tts: opts.tts ?? [], chirpstack: opts.chirpstack ?? [], sparkplug: opts.sparkplug ?? [], ngsi: Boolean(opts.ngsi) };
        const declared = registry.gateway(name);
        const empty = given.tts.length + given.chirpstack.length + given.sparkplug.length === 0 && !given.ngsi;
        scopes = empty && declared ? { tts: declared.tts, chirpstack: declared.chirpstack, sparkplug: declared.sparkplug, ngsi: declared.ngsi } : given;
      }
      if (kind === 'device' && config.registryPath && !registry.get(name)) process.stderr.write(`note: ${name} is not in the registry (${config.registryPath})\n`);
      printCreated(await createCredential(pool, { kind, username: name, scopes, label: opts.label }), Boolean(opts.json));
    });
  });
  creds
    .command('list [name]')
    .description(`list the ${noun} credentials (never their passwords)`)
    .option('--all', 'include revoked credentials')
    .option('--json', 'JSON output')
    .action(async (name: string | undefined, opts: { all?: boolean; json?: boolean }) => {
      await runWithDatabase(async (_config, pool) => printList(await listCredentials(pool, { kind, username: name, includeRevoked: opts.all }), Boolean(opts.json)));
    });
  creds
    .command('revoke <name-or-credential-id>')
    .description(`revoke one credential (bc_…) or every credential of a ${noun}; connected clients are disconnected`)
    .action(async (target: string) => {
      await runWithDatabase(async (_config, pool) => {
        const ids = await revokeCredentials(pool, target.startsWith('bc_') ? { id: target, kind } : { username: target, kind });
        out(ids.length ? `revoked ${ids.join(', ')}` : 'nothing to revoke');
        if (!ids.length) process.exitCode = 1;
      });
    });
}

export function registerCredentials(program: Command): void {
  registerKind(program, 'device', 'device', 'devices');
  registerKind(program, 'gateway', 'gateway', 'gateways: network-server integrations, Sparkplug B edge nodes, NGSI partners');
  registerKind(program, 'integration', 'integration', 'integrations: platforms that may publish under every ingest topic');
  program
    .command('credentials')
    .description('broker credentials for a whole registry')
    .command('provision')
    .description("create a credential for every device and gateway of a registry file, and write their passwords to a file (mode 600) for `vigie simulate --credentials`")
    .option('-r, --registry <file>', 'registry file', 'infra/demo/devices.yaml')
    .requiredOption('-o, --out <file>', 'JSON file receiving {username: password}')
    .option('--label <text>', 'label of the new credentials; earlier credentials with this label are revoked first', 'provisioned')
    .action(async (opts: { registry: string; out: string; label: string }) => {
      await runWithDatabase(async (_config, pool) => {
        const passwords = await provisionRegistry(pool, opts.registry, opts.label);
        writeFileSync(opts.out, `${JSON.stringify(passwords, null, 2)}\n`, { mode: 0o600 });
        out(`${Object.keys(passwords).length} credentials written to ${opts.out}`);
      });
    });
}
