/** Domain words, grant containment and rule-scope confinement (pure). */
import t from 'tap';
import { parseDomainWords, roleAllows } from './identity.ts';
import { domainsWithin, scopeVisible, scopeWithin, UNRESTRICTED, type DeviceScope } from './scope.ts';
import { credentialsOf } from './http.ts';

t.test('domain words', async (t) => {
  t.same(parseDomainWords(['roads']), [{ domain: 'roads' }]);
  t.same(parseDomainWords(['roads:RD910', 'roads:RD400']), [{ domain: 'roads', routes: ['RD400', 'RD910'] }]);
  t.same(parseDomainWords(['roads:RD910', 'roads']), [{ domain: 'roads' }], 'a whole domain absorbs its narrowed grants');
  t.same(parseDomainWords(['buildings:clg-a,roads']), [{ domain: 'roads' }, { domain: 'buildings', buildings: ['clg-a'] }]);
  t.equal(parseDomainWords(['*']), 'all');
  t.same(parseDomainWords([]), []);
  t.match(parseDomainWords(['motorways']), { error: /unknown domain/ });
});

t.test('roles', async (t) => {
  t.ok(roleAllows('viewer', 'read'));
  t.notOk(roleAllows('viewer', 'operate'));
  t.ok(roleAllows('engineer', 'operate'));
  t.notOk(roleAllows('engineer', 'admin'));
  t.notOk(roleAllows('integration', 'read'));
  t.ok(roleAllows('integration', 'publish'));
  t.notOk(roleAllows('engineer', 'publish'));
});

t.test('containment', async (t) => {
  const rd910 = [{ domain: 'roads' as const, routes: ['RD910'] }];
  t.ok(domainsWithin(rd910, 'all'));
  t.notOk(domainsWithin('all', rd910));
  t.ok(domainsWithin(rd910, [{ domain: 'roads' }]));
  t.notOk(domainsWithin([{ domain: 'roads' }], rd910));
  t.notOk(domainsWithin([{ domain: 'buildings' }], rd910));
  t.ok(scopeWithin({ domain: 'roads', routes: ['RD910'] }, rd910));
  t.notOk(scopeWithin({ domain: 'roads' }, rd910), 'all roads is wider than RD910');
  t.notOk(scopeWithin({}, rd910), 'no domain is every domain');
  t.ok(scopeWithin({}, 'all'));
  const sees = (ids: string[]): DeviceScope => ({ ...UNRESTRICTED, all: false, has: (id) => ids.includes(id) });
  t.ok(scopeVisible({}, rd910, sees([])), 'a domain-less rule naming nothing is visible');
  t.notOk(scopeVisible({ devices: ['clg-1'] }, rd910, sees(['rws-1'])), 'naming an invisible device hides it');
  t.notOk(scopeVisible({ buildings: ['clg-a'] }, rd910, sees([])));
  t.notOk(scopeVisible({ domain: 'buildings' }, rd910, sees([])));
});

t.test('credentials from the Authorization header', async (t) => {
  t.equal(credentialsOf('Bearer abc.def'), 'abc.def');
  t.equal(credentialsOf('bearer   tok'), 'tok');
  t.equal(credentialsOf(`Basic ${Buffer.from('me:tok:with:colons').toString('base64')}`), 'tok:with:colons');
  t.equal(credentialsOf(`Basic ${Buffer.from('nopassword').toString('base64')}`), null);
  t.equal(credentialsOf('Token abc'), null);
  t.equal(credentialsOf(''), null);
  t.equal(credentialsOf(undefined), null);
});
