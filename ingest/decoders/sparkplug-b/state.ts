/**
 * What a Sparkplug B host application must remember per edge node (Eclipse Sparkplug 3.0.0,
 * chapter 5 "Operational Behavior" and chapter 6 "Payloads"): the metric definitions of the last
 * NBIRTH and of each device's last DBIRTH (name, alias, datatype, engineering unit, transient),
 * the bdSeq of the current session, the sequence position and the open reorder window.
 */

/** One metric as its BIRTH declared it (§6.4.6 Metric: name, alias, datatype, is_transient, properties). */
export interface MetricDef {
  name: string;
  /** Datatype code (§6.4.16); undefined when the BIRTH broke tck-id-payloads-metric-datatype-req. */
  datatype?: number;
  /** `engUnit` property of the BIRTH metric (Eclipse Tahu's convention for engineering units). */
  unit?: string;
  transient: boolean;
}

/** The metrics one BIRTH defined, by name and by alias. */
export interface MetricTable {
  byName: Map<string, MetricDef>;
  byAlias: Map<number, MetricDef>;
}

export interface DeviceState {
  metrics: MetricTable;
  /** Sequence position of the DBIRTH that defined it (see `NodeState.pos`). */
  bornPos: number;
  online: boolean;
}

/**
 * A seq gap waiting for its missing messages (§5.9 "Sparkplug Host Application Message Ordering"):
 * `missing` holds the positions not seen yet; at `deadline` (arrival + Reorder Timeout) the ones
 * still missing cost a rebirth request.
 */
export interface ReorderWindow {
  missing: Set<number>;
  deadline: number;
  /** The message that revealed the gap, for the dead letter the timer records if it expires. */
  opener: { topic: string; payload: Buffer; receivedAt: Date; deviceId: string; expected: number; got: number };
}

export interface NodeState {
  born: boolean;
  bdSeq?: number;
  /** Payload timestamp of the NBIRTH (ms). */
  bornAt?: number;
  /** Receive time of the NDEATH that ended the last session (ms), if one did. */
  endedAt?: number;
  /**
   * Position of the newest message in the node's stream: seq (0-255) unwrapped to a counter
   * that keeps growing across the 255 -> 0 wrap, so "newer" and "older" stay comparable.
   */
  pos: number;
  node: MetricTable;
  devices: Map<string, DeviceState>;
  reorder?: ReorderWindow;
  lastRebirthAt?: number;
}

export function newTable(): MetricTable {
  return { byName: new Map(), byAlias: new Map() };
}

export function newNodeState(): NodeState {
  return { born: false, pos: -1, node: newTable(), devices: new Map() };
}

/**
 * Counters kept next to the node states (key `#counts`), read by the Prometheus collector of
 * services/formats/sparkplug.ts: `omitted:<reason>` for metrics deliberately not stored,
 * `reorder:<outcome>` for seq gaps filled in time or expired.
 */
export const COUNTS_KEY = '#counts';
export type Counts = Map<string, number>;

export function count(states: Map<string, unknown>, name: string, n = 1): void {
  let c = states.get(COUNTS_KEY) as Counts | undefined;
  if (!c) states.set(COUNTS_KEY, (c = new Map()));
  c.set(name, (c.get(name) ?? 0) + n);
}

export function counts(states: Map<string, unknown>): Counts {
  return (states.get(COUNTS_KEY) as Counts | undefined) ?? new Map();
}

export function nodeStates(states: Map<string, unknown>): Array<[string, NodeState]> {
  return [...states.entries()].filter(([k]) => !k.startsWith('#')) as Array<[string, NodeState]>;
}
