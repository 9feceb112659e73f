/**
 * `vigie mosquitto-config --out <dir>`: Mosquitto's password file, ACL file and configuration
 * (infra/mosquitto/vigie.conf with their paths) from Vigie's broker credentials and routes, so
 * Mosquitto enforces what the embedded broker enforces (services/broker-auth/mosquitto.ts).
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { mosquittoFiles } from '../../services/broker-auth/mosquitto.ts';
import { mosquittoHash } from '../../services/broker-auth/password.ts';
import { allActiveCredentials } from '../../services/broker-auth/store.ts';
import { VigieError } from '../../services/errors.ts';
import { runWithDatabase } from './credentials.ts';

const SHIPPED_CONF = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../infra/mosquitto/vigie.conf');

export function registerMosquittoConfig(program: Command): void {
  program
    .command('mosquitto-config')
    .description("write Mosquitto's password file, ACL file and configuration from Vigie's broker credentials (Vigie's own account: MQTT_USERNAME, MQTT_PASSWORD)")
    .requiredOption('-o, --out <dir>', 'directory receiving passwd, acl and mosquitto.conf')
    .option('--template <file>', 'Mosquitto configuration to start from', SHIPPED_CONF)
    .option('--port <n>', 'listener port written into mosquitto.conf')
    .option('--host <address>', 'listener address written into mosquitto.conf')
    .option('--persistence <dir>', 'persistence_location written into mosquitto.conf')
    .action(async (opts: { out: string; template: string; port?: string; host?: string; persistence?: string }) => {
      await runWithDatabase(async (config, pool) => {
        const username = config.mqtt.username;
        const password = config.mqtt.password;
        if (!username || !password) throw new VigieError('VIGIE_ERR_CONFIG', "set MQTT_USERNAME and MQTT_PASSWORD: they are Vigie's own account on Mosquitto, written into the password file");
        const dir = path.resolve(opts.out);
        mkdirSync(dir, { recursive: true });
        const files = mosquittoFiles({
          credentials: await allActiveCredentials(pool),
          acl: { routes: config.formats.routes, prefix: config.mqtt.topicPrefix, alertRoot: config.alerting.mqttTopic },
          service: { username, mosquittoHash: await mosquittoHash(password) },
          confTemplate: readFileSync(opts.template, 'utf8'),
          dir,
          port: opts.port ? Number(opts.port) : undefined,
          host: opts.host,
          persistenceDir: opts.persistence ? path.resolve(opts.persistence) : undefined,
        });
        // Hashes are not secrets, but whoever reads them may guess at leisure: owner only.
        writeFileSync(path.join(dir, 'passwd'), files.passwd, { mode: 0o600 });
        chmodSync(path.join(dir, 'passwd'), 0o600);
        writeFileSync(path.join(dir, 'acl'), files.acl, { mode: 0o644 });
        writeFileSync(path.join(dir, 'mosquitto.conf'), files.conf, { mode: 0o644 });
        for (const note of files.notes) process.stderr.write(`note: ${note}\n`);
        process.stdout.write(`wrote ${path.join(dir, 'passwd')}, ${path.join(dir, 'acl')}, ${path.join(dir, 'mosquitto.conf')} (${files.passwd.trim().split('\n').length} accounts)\n`);
        // Mosquitto 2 drops root for its own user as soon as its configuration is read, before it
        // reads these files (Mosquitto 2.0.0 ChangeLog; mosquitto.conf(5), `user`).
        process.stdout.write(`the password file is readable by its owner only: give it to the user Mosquitto runs as (chown mosquitto ${path.join(dir, 'passwd')}), then reload Mosquitto\n`);
      });
    });
}
