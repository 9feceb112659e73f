/** The device registry file (YAML or JSON), validated once at start. */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { registryFileSchema, type Device, type Gateway } from '../schemas/index.ts';
import { VigieError } from './errors.ts';

export class DeviceRegistry {
  private readonly byId: Map<string, Device>;
  constructor(
    readonly devices: Device[] = [],
    /** Broker accounts publishing for many devices (network-server integrations, Sparkplug edge nodes). */
    readonly gateways: Gateway[] = [],
  ) {
    this.byId = new Map(devices.map((d) => [d.id, d]));
  }
  get(id: string): Device | undefined {
    return this.byId.get(id);
  }
  gateway(id: string): Gateway | undefined {
    return this.gateways.find((g) => g.id === id);
  }
}

export function loadRegistry(file: string | undefined): DeviceRegistry {
  if (!file) return new DeviceRegistry();
  let parsed: unknown;
  try {
    const text = readFileSync(file, 'utf8');
    parsed = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new VigieError('VIGIE_ERR_REGISTRY', `VIGIE_REGISTRY: cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  const result = registryFileSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new VigieError('VIGIE_ERR_REGISTRY', `VIGIE_REGISTRY ${file}: ${issue.path.join('.')}: ${issue.message}`);
  }
  return new DeviceRegistry(result.data.devices, result.data.gateways);
}
