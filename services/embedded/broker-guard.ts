/**
 * Authentication and topic ACLs on the embedded broker (aedes hooks): every CONNECT is
 * authenticated (services/broker-auth/authenticator.ts), Vigie's client ids are kept for
 * Vigie's account, a will must lie inside the account's ACL, and every PUBLISH, SUBSCRIBE and
 * delivery is checked against the account's grants (services/broker-auth/acl.ts). A refused
 * PUBLISH closes the connection, as MQTT 3.1.1 §3.3.5 allows (no reason code exists before
 * MQTT 5): the message reaches no subscriber, so nothing of it is stored.
 */
import type { TLSSocket } from 'node:tls';
import type { Aedes, AuthenticateError, Client } from 'aedes';
import type { Logger } from 'pino';
import { mayPublish, mayReceive, maySubscribe } from '../broker-auth/acl.ts';
import type { BrokerAuthenticator, Identity } from '../broker-auth/authenticator.ts';
import type { BrokerInstruments, ConnectRefusal } from '../broker-auth/instruments.ts';

/** CONNACK return codes, MQTT 3.1.1 §3.2.2.3. */
const NOT_AUTHORIZED = 5;
const BAD_CREDENTIALS = 4;
const SERVER_UNAVAILABLE = 3;

export interface BrokerGuardOptions {
  auth: BrokerAuthenticator;
  instruments?: BrokerInstruments;
  logger: Logger;
}

export interface BrokerGuard {
  identityOf(client: Client): Identity | undefined;
  /** Disconnects clients whose credential was revoked; returns how many. */
  sweep(): Promise<number>;
}

function certificateCn(client: Client): string | undefined {
  const socket = client.conn as Partial<TLSSocket> | undefined;
  if (!socket || typeof socket.getPeerCertificate !== 'function' || !socket.authorized) return undefined;
  const cn = socket.getPeerCertificate().subject?.CN;
  return typeof cn === 'string' ? cn : Array.isArray(cn) ? cn[0] : undefined;
}

export function installBrokerGuard(broker: Aedes, o: BrokerGuardOptions): BrokerGuard {
  const { auth, logger: log } = o;
  const identities = new WeakMap<Client, Identity>();
  /** aedes keeps connected clients by client id. */
  const byId = () => (broker as unknown as { clients: Record<string, Client | undefined> }).clients;
  const clients = () => Object.values(byId()).filter((c): c is Client => c !== undefined);

  broker.authenticate = (client, username, password, done) => {
    const refuse = (reason: ConnectRefusal, returnCode: number, extra: Record<string, unknown> = {}) => {
      o.instruments?.connectRefused(reason);
      log.warn({ clientId: client.id, username, reason, ...extra }, 'MQTT connection refused');
      const err = new Error(`connection refused: ${reason}`) as AuthenticateError;
      err.returnCode = returnCode;
      done(err, false);
    };
    auth.authenticate(username, password, certificateCn(client)).then(
      (identity) => {
        if (!identity) return refuse(password?.length || username ? 'bad_credentials' : 'no_credentials', password?.length ? BAD_CREDENTIALS : NOT_AUTHORIZED);
        const account = identity.account;
        if (auth.isReservedClientId(client.id) && account.kind !== 'vigie') return refuse('reserved_client_id', NOT_AUTHORIZED, { account: account.name });
        // MQTT 3.1.1 §3.1.3.1 lets a new connection take over a client id; only the same account may.
        const held = byId()[client.id];
        const holder = held !== client ? held : undefined;
        const holderIdentity = holder && identities.get(holder);
        if (holderIdentity && holderIdentity.account.name !== account.name) return refuse('client_id_in_use', NOT_AUTHORIZED, { account: account.name });
        const will = (client as unknown as { _will?: { topic: string } })._will;
        if (will && !mayPublish(account, identity.grants, auth.reserved, will.topic)) return refuse('will_topic', NOT_AUTHORIZED, { account: account.name, topic: will.topic });
        identities.set(client, identity);
        log.debug({ clientId: client.id, account: account.name, kind: account.kind, via: identity.via }, 'MQTT client authenticated');
        done(null, true);
      },
      (err: unknown) => {
        log.error({ err, clientId: client.id }, 'broker authentication failed (database unavailable?)');
        refuse('auth_unavailable', SERVER_UNAVAILABLE);
      },
    );
  };

  // The hook the broker had (the ingest's intake, services/embedded/broker.ts) runs once the
  // ACL allows the publish.
  const allowed = broker.authorizePublish;
  broker.authorizePublish = (client, packet, callback) => {
    // No client: aedes publishing the will of a session from before a restart; the will's
    // topic was checked when that client connected.
    if (!client) return allowed(client, packet, callback);
    const identity = identities.get(client);
    if (identity && mayPublish(identity.account, identity.grants, auth.reserved, packet.topic)) return allowed(client, packet, callback);
    const account = identity?.account.name ?? '_unknown';
    o.instruments?.publishRefused(account);
    log.warn({ clientId: client.id, account, topic: packet.topic }, 'MQTT publish refused: topic outside the account ACL; message dropped');
    callback(new Error(`publish to ${packet.topic} refused`));
  };

  // A refused subscription keeps the connection, so a client could repeat it forever: the
  // first few per connection are warnings, the rest debug lines (all are counted).
  const subscribeWarnings = new WeakMap<Client, number>();
  broker.authorizeSubscribe = (client, sub, callback) => {
    const identity = identities.get(client);
    if (identity && maySubscribe(identity.account, identity.grants, sub.topic)) return callback(null, sub);
    const account = identity?.account.name ?? '_unknown';
    o.instruments?.subscribeRefused(account);
    const warned = subscribeWarnings.get(client) ?? 0;
    subscribeWarnings.set(client, warned + 1);
    log[warned < 10 ? 'warn' : 'debug']({ clientId: client.id, account, filter: sub.topic }, 'MQTT subscription refused: filter outside the account ACL');
    // A negated subscription: SUBACK 0x80 for it, the connection stays (MQTT 3.1.1 §3.9.3).
    callback(null, null);
  };

  broker.authorizeForward = (client, packet) => {
    const identity = identities.get(client);
    if (!identity) return null;
    return mayReceive(identity.account, identity.grants, packet.topic) ? packet : null;
  };

  return {
    identityOf: (client) => identities.get(client),
    async sweep() {
      const all = clients();
      const connected = all.flatMap((c) => {
        const id = identities.get(c)?.credentialId;
        return id ? [{ c, id }] : [];
      });
      const revoked = await auth.sweep(connected.map((x) => x.id));
      const drop = (c: Client, why: Record<string, unknown>) => {
        log.warn({ clientId: c.id, account: identities.get(c)?.account.name, ...why }, 'login no longer valid: disconnecting the client');
        identities.delete(c);
        c.close();
      };
      let closed = 0;
      for (const { c, id } of connected) {
        if (!revoked.has(id)) continue;
        drop(c, { credential: id, reason: 'revoked' });
        closed += 1;
      }
      // API tokens: revoked or expired since the login (an unreachable verifier keeps the client).
      for (const c of all) {
        const recheck = identities.get(c)?.recheck;
        if (!recheck || (await recheck().catch(() => true))) continue;
        drop(c, { reason: 'token no longer valid' });
        closed += 1;
      }
      return closed;
    },
  };
}
