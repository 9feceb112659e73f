/**
 * What a Sparkplug B host application must remember per edge node (Sparkplug 3.0, payloads and
 * session management): the BIRTH's alias table, the bdSeq of the current session, the last `seq`, the devices
 * born under the node, and when a rebirth was last requested (requests are rate-limited).
 */
export interface NodeState {
  born: boolean;
  bdSeq?: number;
  /** Last seq seen, 0-255. */
  seq: number;
  /** Alias to metric name; aliases are unique across a node and its devices (Sparkplug 3.0 aliases). */
  aliases: Map<number, string>;
  /** Metric name to engineering unit, learnt from BIRTH properties. */
  units: Map<string, string>;
  devices: Set<string>;
  lastRebirthAt?: number;
}

export function newNodeState(): NodeState {
  return { born: false, seq: -1, aliases: new Map(), units: new Map(), devices: new Set() };
}
