/**
 * Which devices a rule (or a silence) applies to. Every listed criterion must match; an
 * empty scope matches every device. Unregistered devices carry no kind, domain or place, so
 * only rules without such criteria see them.
 */
import type { Device } from '../../schemas/index.ts';
import type { Scope } from '../../schemas/alerting.ts';

/** What the engine knows of a device: the registry entry, or just the id. */
export type DeviceInfo = Pick<Device, 'id'> & Partial<Omit<Device, 'id'>>;

export function matchesScope(scope: Scope, device: DeviceInfo): boolean {
  if (scope.domain && device.domain !== scope.domain) return false;
  if (scope.kinds && (!device.kind || !scope.kinds.includes(device.kind))) return false;
  if (scope.devices && !scope.devices.includes(device.id)) return false;
  if (scope.sites && (!device.site || !scope.sites.includes(device.site))) return false;
  if (scope.routes && (!device.road || !scope.routes.includes(device.road.route))) return false;
  if (scope.buildings && (!device.building || !scope.buildings.includes(device.building.building))) return false;
  if (scope.tags) {
    for (const [k, v] of Object.entries(scope.tags)) if (device.tags?.[k] !== v) return false;
  }
  return true;
}

export function matchesChannel(scope: Scope, channel: string): boolean {
  return !scope.channels || scope.channels.includes(channel);
}
