/**
 * Password hashes: scrypt from `node:crypto`, salted, slow on purpose, and
 * compared in constant time (`timingSafeEqual`).
 *
 * A hash is stored with everything needed to check it again: the
 * algorithm, its cost parameters (`N`, `r`, `p`), the salt and the derived
 * key's length. So the parameters can be raised later: hashes made before
 * keep verifying with theirs, and {@linkcode needsRehash} says which ones
 * to replace at the next successful login or password change.
 *
 * The defaults, {@linkcode DEFAULT_SCRYPT}: N = 2^15, r = 8, p = 1, a
 * 16-byte random salt, a 32-byte key: ~32 MiB and, on the 2-core machines
 * we run on, ~0.2 s per hash (off the event loop: Deno runs scrypt on
 * another thread). OWASP's cheat sheet asks N = 2^17 for new systems (four
 * times the memory and time); {@linkcode hashPassword} takes other
 * parameters, and what it stores says which were used.
 *
 * A password is 8 characters to 1 KiB of UTF-8 ({@linkcode passwordProblem});
 * longer input is refused before any hashing, so that no request can make
 * the core hash megabytes.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/** scrypt's cost parameters, stored with each hash. */
export interface ScryptParams {
  /** CPU and memory cost, a power of two. */
  readonly n: number;
  /** Block size. */
  readonly r: number;
  /** Parallelism. */
  readonly p: number;
}

/** A stored password hash (JSON-friendly: the salt and key in base64). */
export interface PasswordHash extends ScryptParams {
  readonly algorithm: "scrypt";
  /** The random salt, base64. */
  readonly salt: string;
  /** The derived key, base64. */
  readonly hash: string;
}

/** The parameters new hashes get: N = 2^15, r = 8, p = 1. */
export const DEFAULT_SCRYPT: ScryptParams = Object.freeze({ n: 2 ** 15, r: 8, p: 1 });

/** The shortest password accepted when one is set, in characters. */
export const MIN_PASSWORD_CHARS = 8;

/** The longest password read, in bytes of UTF-8 (1 KiB). */
export const MAX_PASSWORD_BYTES = 1024;

/** Bytes of salt per hash. */
const SALT_BYTES = 16;
/** Bytes of derived key per hash. */
const KEY_BYTES = 32;
/** The largest parameters a stored hash may ask for: N ≤ 2^20, r ≤ 32, p ≤ 16. */
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;

const utf8 = new TextEncoder();

/**
 * Why `password` cannot be set as a password, or undefined when it can: a
 * string of at least {@linkcode MIN_PASSWORD_CHARS} characters and at most
 * {@linkcode MAX_PASSWORD_BYTES} bytes of UTF-8, with no lone surrogate.
 *
 * @param password The candidate.
 * @returns The problem ("must be at least 8 characters"), or undefined.
 *
 * @example
 * ```ts
 * import { passwordProblem } from "./password.ts";
 * if (passwordProblem("correct horse") !== undefined) throw new Error("refused");
 * if (passwordProblem("short") === undefined) throw new Error("a 5-character password accepted");
 * if (passwordProblem("x".repeat(1025)) === undefined) throw new Error("1025 bytes accepted");
 * ```
 */
export function passwordProblem(password: unknown): string | undefined {
  const size = passwordSizeProblem(password);
  if (size !== undefined) return size;
  if ([...(password as string)].length < MIN_PASSWORD_CHARS) {
    return `must be at least ${MIN_PASSWORD_CHARS} characters`;
  }
  return undefined;
}

/**
 * Why `password` cannot even be checked, or undefined: a string, not empty,
 * at most {@linkcode MAX_PASSWORD_BYTES} bytes of UTF-8, no lone surrogate.
 * A login checks only this (a short password simply does not match).
 *
 * @param password The candidate.
 * @returns The problem, or undefined.
 *
 * @example
 * ```ts
 * import { passwordSizeProblem } from "./password.ts";
 * if (passwordSizeProblem("short") !== undefined) throw new Error("refused");
 * if (passwordSizeProblem(42) === undefined) throw new Error("a number accepted");
 * ```
 */
export function passwordSizeProblem(password: unknown): string | undefined {
  if (typeof password !== "string") return "must be a string";
  if (password === "") return "must not be empty";
  if (!password.isWellFormed()) return "must be valid Unicode (it holds a lone surrogate)";
  const bytes = utf8.encode(password).length;
  if (bytes > MAX_PASSWORD_BYTES) {
    return `must be at most ${MAX_PASSWORD_BYTES} bytes of UTF-8, not ${bytes}`;
  }
  return undefined;
}

/**
 * Hashes a password with a new random salt.
 *
 * @param password The password (checked by {@linkcode passwordSizeProblem}).
 * @param params The cost (default {@linkcode DEFAULT_SCRYPT}).
 * @returns The hash to store.
 * @throws {RangeError} When the password is not a string of 1 byte to 1 KiB,
 *   or the parameters are out of range.
 *
 * @example
 * ```ts
 * import { hashPassword, verifyPassword } from "./password.ts";
 * const stored = await hashPassword("correct horse battery staple");
 * if (stored.n !== 2 ** 15 || stored.salt === "") throw new Error("parameters not stored");
 * if (!(await verifyPassword("correct horse battery staple", stored))) throw new Error("no match");
 * if (await verifyPassword("Correct horse battery staple", stored)) throw new Error("matched");
 * ```
 */
export async function hashPassword(
  password: string,
  params: ScryptParams = DEFAULT_SCRYPT,
): Promise<PasswordHash> {
  const problem = passwordSizeProblem(password);
  if (problem !== undefined) throw new RangeError(`Cannot hash password: it ${problem}`);
  const bad = paramsProblem(params);
  if (bad !== undefined) throw new RangeError(`Cannot hash password: ${bad}`);
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params, KEY_BYTES);
  return {
    algorithm: "scrypt",
    n: params.n,
    r: params.r,
    p: params.p,
    salt: salt.toString("base64"),
    hash: key.toString("base64"),
  };
}

/**
 * Checks a password against a stored hash, with the hash's own parameters,
 * comparing the keys in constant time.
 *
 * @param password What was typed (any string; one over 1 KiB never matches
 *   and is not hashed).
 * @param stored The stored hash.
 * @returns True when they match.
 * @throws {TypeError} When `stored` is not a hash this module made.
 *
 * @example
 * ```ts
 * import { hashPassword, verifyPassword } from "./password.ts";
 * const cheap = { n: 1024, r: 8, p: 1 }; // tests only: fast, and weak
 * const stored = await hashPassword("open sesame", cheap);
 * console.log(await verifyPassword("open sesame", stored)); // true
 * ```
 */
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const checked = parsePasswordHash(stored);
  if (checked === undefined) {
    throw new TypeError("Cannot check password: the stored hash is not a scrypt hash of ours");
  }
  if (passwordSizeProblem(password) !== undefined) return false;
  const expected = Buffer.from(checked.hash, "base64");
  const actual = await derive(
    password,
    Buffer.from(checked.salt, "base64"),
    checked,
    expected.length,
  );
  return timingSafeEqual(actual, expected);
}

/**
 * Whether a stored hash was made with weaker parameters than `params` (and
 * should be replaced by a new hash of the same password).
 *
 * @param stored The stored hash.
 * @param params The parameters new hashes get (default {@linkcode DEFAULT_SCRYPT}).
 * @returns True when any of N, r or p is below `params`'.
 *
 * @example
 * ```ts
 * import { needsRehash } from "./password.ts";
 * const old = { algorithm: "scrypt", n: 2 ** 14, r: 8, p: 1, salt: "", hash: "" } as const;
 * if (!needsRehash(old)) throw new Error("2^14 is below the default");
 * ```
 */
export function needsRehash(stored: PasswordHash, params: ScryptParams = DEFAULT_SCRYPT): boolean {
  return stored.n < params.n || stored.r < params.r || stored.p < params.p;
}

/**
 * Reads a stored hash, checking its shape and parameters.
 *
 * @param value What was stored.
 * @returns The hash, or undefined when it is not one.
 *
 * @example
 * ```ts
 * import { parsePasswordHash } from "./password.ts";
 * if (parsePasswordHash({ algorithm: "md5" }) !== undefined) throw new Error("md5 accepted");
 * ```
 */
export function parsePasswordHash(value: unknown): PasswordHash | undefined {
  const v = value as Partial<Record<keyof PasswordHash, unknown>> | null;
  if (
    typeof v !== "object" || v === null || v.algorithm !== "scrypt" ||
    typeof v.salt !== "string" || typeof v.hash !== "string" ||
    typeof v.n !== "number" || typeof v.r !== "number" || typeof v.p !== "number"
  ) return undefined;
  const params = { n: v.n, r: v.r, p: v.p };
  if (paramsProblem(params) !== undefined) return undefined;
  const salt = Buffer.from(v.salt, "base64");
  const hash = Buffer.from(v.hash, "base64");
  if (salt.length < SALT_BYTES || hash.length < 16 || hash.length > 64) return undefined;
  return { algorithm: "scrypt", ...params, salt: v.salt, hash: v.hash };
}

function paramsProblem({ n, r, p }: ScryptParams): string | undefined {
  if (!(Number.isSafeInteger(n) && n >= 2 && n <= MAX_N && (n & (n - 1)) === 0)) {
    return `N must be a power of two from 2 to 2^20, not ${n}`;
  }
  if (!(Number.isSafeInteger(r) && r >= 1 && r <= MAX_R)) return `r must be 1 to ${MAX_R}`;
  if (!(Number.isSafeInteger(p) && p >= 1 && p <= MAX_P)) return `p must be 1 to ${MAX_P}`;
  return undefined;
}

/** scrypt, off the event loop; memory bounded by the parameters' own need. */
function derive(
  password: string,
  salt: Buffer,
  { n, r, p }: ScryptParams,
  length: number,
): Promise<Buffer> {
  // scrypt needs ~128·N·r bytes (and 128·r·p); Node refuses above maxmem.
  const maxmem = 128 * n * r + 128 * r * p + 1024 * 1024;
  return new Promise((resolve, reject) =>
    scrypt(password, salt, length, { N: n, r, p, maxmem }, (error, key) => {
      if (error) reject(error);
      else resolve(key);
    })
  );
}
