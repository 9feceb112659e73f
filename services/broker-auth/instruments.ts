/**
 * Prometheus counters of what the broker refused. Refused publishes and subscriptions are
 * labelled with the account (username, device id, gateway id), not the MQTT client id: a
 * client id is whatever a client chooses, so a label on it would let any client grow the
 * series without bound, while accounts exist only once created. Past MAX_ACCOUNT_LABELS
 * distinct accounts the rest share `_other` (the log line still names them).
 */
import client from 'prom-client';

const MAX_ACCOUNT_LABELS = 1000;

export type ConnectRefusal = 'bad_credentials' | 'no_credentials' | 'reserved_client_id' | 'client_id_in_use' | 'will_topic' | 'auth_unavailable';

export interface BrokerInstruments {
  publishRefused(account: string): void;
  subscribeRefused(account: string): void;
  connectRefused(reason: ConnectRefusal): void;
}

export function createBrokerInstruments(registry: client.Registry): BrokerInstruments {
  const publish = new client.Counter({ name: 'vigie_mqtt_publish_refused_total', help: 'PUBLISH packets the embedded broker refused (topic outside the account ACL); the message is dropped', labelNames: ['account'], registers: [registry] });
  const subscribe = new client.Counter({ name: 'vigie_mqtt_subscribe_refused_total', help: 'Subscriptions the embedded broker refused (filter outside the account ACL)', labelNames: ['account'], registers: [registry] });
  const connect = new client.Counter({ name: 'vigie_mqtt_connect_refused_total', help: 'CONNECTs the embedded broker refused, by reason', labelNames: ['reason'], registers: [registry] });
  const seen = new Set<string>();
  const label = (account: string) => {
    if (seen.has(account)) return account;
    if (seen.size >= MAX_ACCOUNT_LABELS) return '_other';
    seen.add(account);
    return account;
  };
  return {
    publishRefused: (account) => publish.inc({ account: label(account) }),
    subscribeRefused: (account) => subscribe.inc({ account: label(account) }),
    connectRefused: (reason) => connect.inc({ reason }),
  };
}
