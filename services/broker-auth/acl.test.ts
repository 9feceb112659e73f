import t from 'tap';
import { DEFAULT_ROUTES } from '../../ingest/default-routes.ts';
import { filterCovers, grantsFor, mayPublish, mayReceive, maySubscribe, vigieOnlyFilters, type Account, type AclContext } from './acl.ts';

const ctx: AclContext = { routes: DEFAULT_ROUTES, prefix: 'p/', alertRoot: 'vigie/alerts' };
const reserved = vigieOnlyFilters(ctx);
const scopes = { tts: ['colleges@tenant'], chirpstack: ['app-1'], sparkplug: ['school/gtb'], ngsi: true };
const can = (account: Account, topic: string) => mayPublish(account, grantsFor(account, ctx), reserved, topic);

t.test('a device publishes under its own native and SenML topics only, prefix included', async (t) => {
  const dev: Account = { kind: 'device', name: 'rws-1' };
  t.same(grantsFor(dev, ctx).publish, ['p/vigie/rws-1/telemetry', 'p/vigie/rws-1/senml']);
  t.ok(can(dev, 'p/vigie/rws-1/telemetry'));
  t.notOk(can(dev, 'vigie/rws-1/telemetry'), 'outside the deployment prefix');
  t.notOk(can(dev, 'p/vigie/rws-2/telemetry'));
  t.notOk(can(dev, 'p/vigie/ngsi'));
  t.notOk(can(dev, 'p/v3/colleges/devices/rws-1/up'));
  t.notOk(can({ kind: 'device', name: 'alerts' }, 'p/vigie/alerts/telemetry'), 'a device named like the alert root gains nothing under it');
});

t.test('a gateway publishes under its applications and edge node only', async (t) => {
  const gw: Account = { kind: 'gateway', name: 'gw', scopes };
  t.ok(can(gw, 'p/v3/colleges@tenant/devices/any-device/up'));
  t.notOk(can(gw, 'p/v3/other/devices/any-device/up'));
  t.ok(can(gw, 'p/application/app-1/device/0011/event/up'));
  t.ok(can(gw, 'p/application/app-1/device/0011/event/join'), "the application's other ChirpStack events are its own");
  t.notOk(can(gw, 'p/application/app-2/device/0011/event/up'));
  for (const type of ['NBIRTH', 'NDATA', 'NDEATH']) t.ok(can(gw, `p/spBv1.0/school/${type}/gtb`), type);
  for (const type of ['DBIRTH', 'DDATA', 'DDEATH']) t.ok(can(gw, `p/spBv1.0/school/${type}/gtb/room-1`), type);
  t.notOk(can(gw, 'p/spBv1.0/school/NDATA/other-node'));
  t.notOk(can(gw, 'p/spBv1.0/school/NCMD/gtb'), 'commands are Vigie’s');
  t.notOk(can(gw, 'p/spBv1.0/school/DCMD/gtb/room-1'));
  t.ok(can(gw, 'p/vigie/ngsi'));
  t.notOk(can(gw, 'p/vigie/dev/telemetry'));
  const g = grantsFor(gw, ctx);
  t.ok(maySubscribe(gw, g, 'p/spBv1.0/school/NCMD/gtb'), 'the node hears its commands');
  t.notOk(maySubscribe(gw, g, 'p/spBv1.0/+/NCMD/+'), 'not the other nodes’');
});

t.test('integrations publish under every ingest topic, never alerts or commands; Vigie anywhere', async (t) => {
  const integration: Account = { kind: 'integration', name: 'partner' };
  t.ok(can(integration, 'p/vigie/any/telemetry'));
  t.ok(can(integration, 'p/spBv1.0/g/NDATA/n'));
  t.notOk(can(integration, 'p/vigie/alerts/ice/rws-1'));
  t.notOk(can(integration, 'p/vigie/alerts'));
  t.notOk(can(integration, 'p/spBv1.0/g/NCMD/n'));
  t.notOk(can(integration, '$SYS/broker/uptime'));
  const g = grantsFor(integration, ctx);
  t.ok(maySubscribe(integration, g, 'p/vigie/alerts/#'), 'it may read alert events');
  t.ok(mayReceive(integration, g, 'p/vigie/alerts/ice/rws-1'));
  t.notOk(maySubscribe(integration, g, '#'));
  const vigie: Account = { kind: 'vigie', name: 'vigie' };
  t.ok(can(vigie, 'p/vigie/alerts/ice/rws-1'));
  t.ok(can(vigie, 'p/spBv1.0/g/NCMD/n'));
  t.ok(maySubscribe(vigie, grantsFor(vigie, ctx), '$share/group/p/vigie/+/telemetry'));
});

t.test('subscription filters must lie inside a grant', async (t) => {
  t.ok(filterCovers('a/+/c', 'a/b/c'));
  t.ok(filterCovers('a/+/c', 'a/+/c'));
  t.ok(filterCovers('a/#', 'a/b/#'));
  t.notOk(filterCovers('a/+/c', 'a/#'));
  t.notOk(filterCovers('a/b/c', 'a/+/c'));
  t.notOk(filterCovers('a/b', 'a/b/c'));
  const dev: Account = { kind: 'device', name: 'd1' };
  const g = grantsFor(dev, ctx);
  t.ok(maySubscribe(dev, g, 'p/vigie/d1/telemetry'));
  t.notOk(maySubscribe(dev, g, 'p/vigie/+/telemetry'));
  t.notOk(maySubscribe(dev, g, '$share/x/p/vigie/d2/telemetry'), 'a shared subscription is checked on its filter');
});

t.test('extra routes with one wildcard become device topics too', async (t) => {
  const custom: AclContext = { ...ctx, routes: [{ filter: 'site1/lora/+/up', decoder: 'ttn-v3' }, ...DEFAULT_ROUTES] };
  t.ok(grantsFor({ kind: 'device', name: 'x' }, custom).publish.includes('p/site1/lora/x/up'));
});
