import { randomBytes, randomInt, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

/**
 * scrypt cost: N=2^14, r=8, p=1 takes ~50 ms on a laptop core (more on a Pi), which makes
 * guessing from a stolen users bucket slow while a login still feels instant.
 */
const COST = { N: 16_384, r: 8, p: 1 } as const;
const KEY_BYTES = 32;
const SALT_BYTES = 16;
/** Parameters read from a stored hash are bounded, so a tampered record cannot make us burn memory. */
const MAX_N = 1 << 20;

function derive(password: string, salt: Buffer, cost: { N: number; r: number; p: number }, bytes: number): Promise<Buffer> {
  const options: ScryptOptions = { ...cost, maxmem: 256 * cost.N * cost.r + 1024 * 1024 };
  return new Promise((resolve, reject) => scrypt(password.normalize("NFC"), salt, bytes, options, (err, key) => (err === null ? resolve(key) : reject(err))));
}

/** Hashes a password as `scrypt$N$r$p$<salt>$<hash>` (salt and hash base64url), with a fresh random salt. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, COST, KEY_BYTES);
  return ["scrypt", COST.N, COST.r, COST.p, salt.toString("base64url"), key.toString("base64url")].join("$");
}

/**
 * Whether `password` matches a hash made by `hashPassword` (compared in constant time).
 * A malformed stored value never matches.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every(Number.isSafeInteger) || N < 2 || N > MAX_N || (N & (N - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) return false;
  const salt = Buffer.from(parts[4] as string, "base64url");
  const want = Buffer.from(parts[5] as string, "base64url");
  if (salt.length < 8 || want.length < 16 || want.length > 64) return false;
  const got = await derive(password, salt, { N, r, p }, want.length);
  return timingSafeEqual(got, want);
}

/** A hash no password matches: verified against when the user does not exist, so both cases take as long. */
export const UNMATCHABLE_HASH = ["scrypt", COST.N, COST.r, COST.p, Buffer.alloc(SALT_BYTES).toString("base64url"), Buffer.alloc(KEY_BYTES).toString("base64url")].join("$");

/** Letters and digits that cannot be mistaken for each other when read off a log (no 0/O, 1/l/I). */
const ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/** A random password of `length` characters from an unambiguous alphabet (~5.8 bits each: 20 → 116 bits). */
export function generatePassword(length = 20): string {
  let out = "";
  for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}
