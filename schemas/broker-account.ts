/**
 * Broker accounts: who may connect to the MQTT broker and under which topics. A device
 * publishes as itself (its registry id is its username); a gateway is a network server's
 * integration (The Things Stack application, ChirpStack application), a Sparkplug B edge node
 * or an NGSI partner, publishing for many devices under its own topics only. The registry
 * file declares gateways beside devices; credentials (hashed secrets) live in the database.
 */
import { z } from 'zod';

/**
 * Usernames go into Mosquitto's password file (`user:hash`, mosquitto_passwd(1)) and ACL file
 * (`user <name>`, mosquitto.conf(5)) and into MQTT topics: no `:` separator, no space, no
 * wildcard or level separator.
 */
export const accountNameSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.-]+$/, 'account name may hold letters, digits and _ . - only');

/** A TTS application id, optionally `app@tenant` (The Things Stack MQTT server topic `v3/{app}[@{tenant}]/...`). */
const topicLevel = z.string().min(1).max(128).regex(/^[^/+#\s]+$/, 'one topic level: no / + # or spaces');
/** Sparkplug B `group/node` (Sparkplug 3.0 §4.1.1: group_id and edge_node_id are single levels). */
const sparkplugNode = z.string().regex(/^[^/+#\s]+\/[^/+#\s]+$/, 'Sparkplug edge node as group/node');

export const gatewayScopesSchema = z
  .object({
    /** The Things Stack applications whose uplinks this account publishes. */
    tts: z.array(topicLevel).default([]),
    /** ChirpStack application ids (the MQTT integration's `application/{id}/device/...` topics). */
    chirpstack: z.array(topicLevel).default([]),
    /** Sparkplug B edge nodes, `group/node`. */
    sparkplug: z.array(sparkplugNode).default([]),
    /** NGSI notifications on the NGSI topic (a partner context broker). */
    ngsi: z.boolean().default(false),
  })
  .strict();
export type GatewayScopes = z.infer<typeof gatewayScopesSchema>;

export const gatewaySchema = z
  .object({
    id: accountNameSchema,
    name: z.string().max(200).optional(),
  })
  .extend(gatewayScopesSchema.shape)
  .strict()
  .refine((g) => g.tts.length + g.chirpstack.length + g.sparkplug.length > 0 || g.ngsi, { message: 'a gateway needs at least one of tts, chirpstack, sparkplug, ngsi' });
export type Gateway = z.infer<typeof gatewaySchema>;

export const ACCOUNT_KINDS = ['device', 'gateway', 'integration'] as const;
export type AccountKind = (typeof ACCOUNT_KINDS)[number];
