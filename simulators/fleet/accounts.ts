/**
 * Which broker account a simulated message is published with, as in the field: a device
 * speaking the native or SenML format logs in as itself; a LoRaWAN network server's bridge, a
 * Sparkplug B edge node and an NGSI partner log in as the registry gateway whose scope holds
 * the application, edge node or NGSI topic.
 */
import type { Gateway } from '../../schemas/index.ts';

export interface Login {
  username: string;
  password: string;
}

/** The account name for a wire topic (without the deployment prefix), or undefined. */
export function accountFor(topic: string, gateways: readonly Gateway[]): string | undefined {
  const levels = topic.split('/');
  if (levels[0] === 'v3' && levels[2] === 'devices') {
    const app = levels[1]!;
    return gateways.find((g) => g.tts.includes(app))?.id;
  }
  if (levels[0] === 'application' && levels[2] === 'device') {
    const app = levels[1]!;
    return gateways.find((g) => g.chirpstack.includes(app))?.id;
  }
  if (levels[0] === 'spBv1.0' && levels.length >= 4) {
    const node = `${levels[1]}/${levels[3]}`;
    return gateways.find((g) => g.sparkplug.includes(node))?.id;
  }
  if (topic === 'vigie/ngsi') return gateways.find((g) => g.ngsi)?.id;
  if (levels[0] === 'vigie' && levels.length === 3) return levels[1];
  return undefined;
}
