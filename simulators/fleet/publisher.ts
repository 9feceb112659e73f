/**
 * Publishing with backpressure: QoS 1 by default, at most `maxInflight` messages awaiting their
 * PUBACK (so a slow broker slows the simulator instead of growing its memory), one session per
 * Sparkplug edge node (its NDEATH is that session's will, Sparkplug 3.0 §7.1), one session per
 * broker account when devices and gateways log in as themselves, errors counted.
 */
import type { MqttClient } from 'mqtt';
import type { Login } from './accounts.ts';
import { connect, type BrokerConnection } from './connection.ts';

export interface PublishStats {
  sent: number;
  errors: number;
  bytes: number;
  lastError?: string;
}

export class Publisher {
  /** The session of the broker connection's own login, opened on first use (with per-account logins it may never be). */
  private client: Promise<MqttClient> | null = null;
  private started = false;
  private readonly accounts = new Map<string, Promise<MqttClient>>();
  private readonly nodes = new Map<string, MqttClient>();
  private readonly pending = new Set<Promise<void>>();
  readonly stats: PublishStats = { sent: 0, errors: 0, bytes: 0 };

  constructor(
    private readonly broker: BrokerConnection,
    private readonly prefix = '',
    private readonly maxInflight = 1000,
  ) {}

  /** Connects the default session at once (a refused login shows now), unless every message will name its account. */
  async start(perAccount = false): Promise<void> {
    this.started = true;
    if (!perAccount) await this.defaultClient();
  }

  private defaultClient(): Promise<MqttClient> {
    if (!this.client) {
      this.client = connect(this.broker, `${process.pid}`);
      this.client.catch(() => (this.client = null));
    }
    return this.client;
  }

  /** Opens a Sparkplug node's own session with its NDEATH as will; `onRebirth` answers NCMD rebirth requests. */
  async openNode(nodeId: string, willTopic: string, willPayload: Buffer, ncmdTopic: string, onRebirth: () => void, isRebirth: (payload: Buffer) => boolean, login?: Login): Promise<void> {
    const c = await connect({ ...this.broker, ...(login ?? {}) }, `spb${this.nodes.size}-${process.pid}`, { will: { topic: this.prefix + willTopic, payload: willPayload, qos: 1, retain: false } });
    c.on('message', (_t, payload) => {
      if (isRebirth(payload)) onRebirth();
    });
    await c.subscribeAsync(this.prefix + ncmdTopic, { qos: 0 });
    this.nodes.set(nodeId, c);
  }

  /** The session of one broker account (created on first use). */
  private account(login: Login): Promise<MqttClient> {
    let c = this.accounts.get(login.username);
    if (!c) {
      c = connect({ ...this.broker, ...login }, `${login.username}-${process.pid}`);
      c.catch(() => this.accounts.delete(login.username));
      this.accounts.set(login.username, c);
    }
    return c;
  }

  async publish(topic: string, payload: Buffer, o: { qos?: 0 | 1 | 2; retain?: boolean; node?: string; login?: Login } = {}): Promise<void> {
    if (!this.started) throw new Error('publisher not started');
    const c = (o.node && this.nodes.get(o.node)) || (o.login ? await this.account(o.login) : await this.defaultClient());
    while (this.pending.size >= this.maxInflight) await Promise.race(this.pending);
    const p = c
      .publishAsync(this.prefix + topic, payload, { qos: o.qos ?? 1, retain: o.retain ?? false })
      .then(() => {
        this.stats.sent++;
        this.stats.bytes += payload.length;
      })
      .catch((err: Error) => {
        this.stats.errors++;
        this.stats.lastError = err.message;
      })
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Sparkplug nodes close with an explicit NDEATH (a will only fires on a lost connection). */
  async close(deaths: Array<{ node: string; topic: string; payload: Buffer }> = []): Promise<void> {
    await this.flush();
    for (const d of deaths) await this.publish(d.topic, d.payload, { node: d.node });
    await this.flush();
    for (const c of this.nodes.values()) await c.endAsync();
    for (const c of this.accounts.values()) await (await c).endAsync();
    if (this.client) await (await this.client).endAsync();
    this.client = null;
  }
}
