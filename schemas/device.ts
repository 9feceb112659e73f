/**
 * Devices and where they stand. Roads use linear referencing (route, PR, abscissa,
 * direction) as French road operators do; buildings use building/floor/zone.
 */
import { z } from 'zod';
import { gatewaySchema } from './broker-account.ts';
import { deviceIdSchema } from './observation.ts';

export const DEVICE_KINDS = [
  'road-weather-station',
  'traffic-counter',
  'building-sensor',
  'meter',
  'boiler',
  'gateway',
  'other',
] as const;
export const deviceKindSchema = z.enum(DEVICE_KINDS);
export type DeviceKind = z.infer<typeof deviceKindSchema>;

export const domainSchema = z.enum(['roads', 'buildings']);
export type Domain = z.infer<typeof domainSchema>;

export const positionSchema = z.object({
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
});

export const roadLocationSchema = z.object({
  /** Route reference, e.g. RD400. */
  route: z.string().min(1).max(32),
  /** Point de repère: numbered kilometre marker. */
  pr: z.number().int().min(0),
  /** Metres after the PR. */
  abscissa: z.number().min(0).default(0),
  /** Direction of travel relative to the PR numbering. */
  direction: z.enum(['increasing', 'decreasing', 'both']).default('both'),
});

export const buildingLocationSchema = z.object({
  building: z.string().min(1).max(128),
  floor: z.string().max(32).optional(),
  zone: z.string().max(128).optional(),
});

export const deviceSchema = z
  .object({
    id: deviceIdSchema,
    name: z.string().max(200).optional(),
    kind: deviceKindSchema,
    domain: domainSchema,
    position: positionSchema.optional(),
    site: z.string().max(128).optional(),
    road: roadLocationSchema.optional(),
    building: buildingLocationSchema.optional(),
    /** Device profile (payload key mapping) for LoRaWAN and similar formats. */
    profile: z.string().max(64).optional(),
    /** Reporting period in seconds: used for staleness guards and traffic flow. */
    periodSeconds: z.number().int().positive().max(86400).optional(),
    tags: z.record(z.string(), z.string()).default({}),
  })
  .strict();
export type Device = z.infer<typeof deviceSchema>;
export type DeviceInput = z.input<typeof deviceSchema>;

/**
 * The registry file (YAML or JSON): `{ devices: [...], gateways: [...] }`. Gateways are broker
 * accounts publishing for many devices (schemas/broker-account.ts); a gateway id is a
 * username, so it may not equal a device id.
 */
export const registryFileSchema = z
  .object({ devices: z.array(deviceSchema), gateways: z.array(gatewaySchema).default([]) })
  .strict()
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.devices.forEach((d, i) => {
      if (seen.has(d.id)) ctx.addIssue({ code: 'custom', path: ['devices', i, 'id'], message: `duplicate device id ${d.id}` });
      seen.add(d.id);
    });
    file.gateways.forEach((g, i) => {
      if (seen.has(g.id)) ctx.addIssue({ code: 'custom', path: ['gateways', i, 'id'], message: `gateway id ${g.id} is already a device or gateway id` });
      seen.add(g.id);
    });
  });
export type RegistryFile = z.infer<typeof registryFileSchema>;
