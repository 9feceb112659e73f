/** `vigie simulate`: publish the simulated département to a broker. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { runFleet } from '../../simulators/fleet/run.ts';

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('Publish a simulated département (road-weather stations, traffic counters, school sensors) over MQTT')
    .option('-u, --url <url>', 'broker URL', process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883')
    .option('-r, --registry <file>', 'device registry describing the fleet', 'infra/demo/devices.yaml')
    .option('--interval <seconds>', "publish every N seconds instead of each device's own period")
    .option('--duration <seconds>', 'stop after this many real seconds (default: run until interrupted)')
    .option('--prefix <prefix>', 'topic prefix (must match VIGIE_TOPIC_PREFIX)', '')
    .option('--seed <n>', 'random seed, for reproducible feeds', '1')
    .option('--credentials <file>', 'JSON {username: password} from `vigie credentials provision`: each device and gateway logs in as itself (otherwise MQTT_USERNAME/MQTT_PASSWORD, if set, for every connection)')
    .action(async (opts: { url: string; registry: string; interval?: string; duration?: string; prefix: string; seed: string; credentials?: string }) => {
      const username = process.env.MQTT_USERNAME;
      const password = process.env.MQTT_PASSWORD;
      await runFleet({
        credentials: opts.credentials ? (JSON.parse(readFileSync(opts.credentials, 'utf8')) as Record<string, string>) : undefined,
        login: username && password ? { username, password } : undefined,
        url: opts.url,
        registryPath: opts.registry,
        intervalSeconds: opts.interval ? Number(opts.interval) : undefined,
        durationSeconds: opts.duration ? Number(opts.duration) : undefined,
        topicPrefix: opts.prefix,
        seed: Number(opts.seed),
      });
    });
}
