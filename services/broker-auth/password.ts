/**
 * Broker secrets and their hashes. Secrets are generated here (32 random bytes, base64url),
 * never chosen by people, and shown once. Two one-way hashes of each are stored:
 * - scrypt (RFC 7914) with N=2^10, r=8, p=1, the form Vigie's embedded broker verifies;
 * - Mosquitto's own PBKDF2-SHA512 format, `$7$<iterations>$<base64 salt>$<base64 hash>` with a
 *   12-byte salt and a 64-byte key, as mosquitto_passwd(1) writes it, so `vigie mosquitto-config`
 *   can write a password file without ever holding the secret again.
 * Both hash a 256-bit random secret: no dictionary or brute force reaches it, so the work
 * factors only need to be reasonable. They are kept low on purpose: after a restart every
 * device reconnects at once with nothing cached (bench/broker-auth.ts), and Mosquitto verifies
 * on every CONNECT in its single thread.
 */
import { pbkdf2, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number, options: ScryptOptions) => Promise<Buffer>;
const pbkdf2Async = promisify(pbkdf2);

const SCRYPT = { ln: 10, r: 8, p: 1, keylen: 32 };
/** mosquitto_passwd's default is 101; a little more costs Mosquitto nothing noticeable per CONNECT. */
export const MOSQUITTO_ITERATIONS = 1000;

export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** `$scrypt$ln=10,r=8,p=1$<base64 salt>$<base64 key>` (the PHC string format's layout). */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(secret, salt, SCRYPT.keylen, { N: 2 ** SCRYPT.ln, r: SCRYPT.r, p: SCRYPT.p });
  return `$scrypt$ln=${SCRYPT.ln},r=${SCRYPT.r},p=${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifySecret(secret: string, hash: string): Promise<boolean> {
  const m = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(hash);
  if (!m) return false;
  const expected = Buffer.from(m[5]!, 'base64');
  const ln = Number(m[1]);
  if (ln > 20) return false;
  const key = await scryptAsync(secret, Buffer.from(m[4]!, 'base64'), expected.length, { N: 2 ** ln, r: Number(m[2]), p: Number(m[3]), maxmem: 256 * 1024 * 1024 });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

export async function mosquittoHash(secret: string, iterations = MOSQUITTO_ITERATIONS): Promise<string> {
  const salt = randomBytes(12);
  const key = await pbkdf2Async(secret, salt, iterations, 64, 'sha512');
  return `$7$${iterations}$${salt.toString('base64')}$${key.toString('base64')}`;
}
