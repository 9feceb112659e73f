import { pbkdf2Sync } from 'node:crypto';
import t from 'tap';
import { generateSecret, hashSecret, mosquittoHash, verifySecret } from './password.ts';

t.test('scrypt hashes verify the secret and nothing else', async (t) => {
  const secret = generateSecret();
  t.match(secret, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
  const hash = await hashSecret(secret);
  t.match(hash, /^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  t.notMatch(hash, new RegExp(secret));
  t.ok(await verifySecret(secret, hash));
  t.notOk(await verifySecret(`${secret}x`, hash));
  t.notOk(await verifySecret(secret, await hashSecret(secret + 'y')));
  t.notOk(await verifySecret(secret, 'garbage'));
  t.not(await hashSecret(secret), hash, 'salted');
});

t.test("Mosquitto's $7$ form is PBKDF2-HMAC-SHA512 over the secret with the stored salt", async (t) => {
  const hash = await mosquittoHash('s3cret', 101);
  const [, kind, iterations, salt, key] = hash.split('$');
  t.equal(kind, '7');
  t.equal(iterations, '101');
  t.equal(Buffer.from(salt!, 'base64').length, 12);
  t.equal(key, pbkdf2Sync('s3cret', Buffer.from(salt!, 'base64'), 101, 64, 'sha512').toString('base64'));
});
