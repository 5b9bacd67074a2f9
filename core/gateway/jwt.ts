/**
 * JSON Web Tokens (RFC 7519) signed with HMAC-SHA256, and nothing else.
 *
 * `verifyJwt` reads untrusted text: it returns a value with a reason code and
 * never throws on a bad token. It checks, in this order, each failure
 * stopping it:
 *
 * 1. size (at most {@linkcode MAX_TOKEN_BYTES}) and shape (three strict
 *    base64url parts, a header that is a JSON object): `malformed`;
 * 2. the header's `alg`, which must be exactly `"HS256"` (`none`, `HS384`,
 *    `hs256`, missing: all refused; the key alone never picks the
 *    algorithm): `bad_algorithm`;
 * 3. the signature, by `jose` (`jwtVerify`, algorithms pinned to HS256;
 *    WebCrypto's constant-time HMAC): `bad_signature`; only then is the
 *    payload read;
 * 4. the claims: `missing_claim`, `malformed` (a claim of the wrong type),
 *    `bad_account` (not 1 to 48 bytes of UTF-8, or holding a character
 *    that is not printable), `bad_role`; then, by `jose` with the clock
 *    tolerance: `wrong_issuer`, `wrong_audience`, `not_yet_valid`,
 *    `expired`.
 *
 * Signing and verifying are `jose`'s; this module keeps what `jose` does not
 * decide for us: the strict shape checks before it (a re-spelled base64url
 * part, which `jose` would decode to the same bytes, is `malformed`), the
 * gateway's own claims (`sub`, `role`, `epoch`), and each refusal's reason
 * code and message.
 *
 * Whether the token's account may still use it (registered, enabled, the
 * same role, the same token epoch) is the account store's word, checked by
 * the core after this (`core/admin/access.ts`).
 *
 * @module
 */

import { errors, jwtVerify, SignJWT } from "jose";
import { accountNameProblem } from "../../schemas/vocabulary/names.ts";
import { isRole, type Role, ROLES } from "../../schemas/vocabulary/roles.ts";
import { decodeBase64Url } from "./_base64url.ts";
import { DEFAULT_LEEWAY_SECONDS, MAX_TOKEN_BYTES } from "./config.ts";

/** The claims of a gateway token. */
export interface JwtClaims {
  /** The account (1 to 48 bytes of UTF-8, the protocol's rule for account names). */
  readonly sub: string;
  /** What the holder may do. */
  readonly role: Role;
  /** Who minted the token. */
  readonly iss: string;
  /** Whom it is for: one name, or several. */
  readonly aud: string | readonly string[];
  /** Expiry, in seconds since the epoch (a NumericDate). */
  readonly exp: number;
  /** When it was minted, in seconds since the epoch. */
  readonly iat?: number;
  /** Not valid before, in seconds since the epoch. */
  readonly nbf?: number;
  /** A unique id, for revocation lists. */
  readonly jti?: string;
  /**
   * The account's token epoch when the token was minted (absent: 0). The
   * core accepts a token only while the account's epoch is still this one:
   * every change of the account's role or `enabled` moves it on, so that
   * tokens minted before stop working (see `core/admin/access.ts`).
   */
  readonly epoch?: number;
}

/** Why a token was refused. */
export type JwtFailureReason =
  | "malformed"
  | "bad_algorithm"
  | "bad_signature"
  | "expired"
  | "not_yet_valid"
  | "wrong_issuer"
  | "wrong_audience"
  | "missing_claim"
  | "bad_role"
  | "bad_account";

/** The outcome of {@linkcode verifyJwt}. */
export type JwtVerification =
  | { readonly ok: true; readonly claims: JwtClaims }
  | { readonly ok: false; readonly reason: JwtFailureReason; readonly message: string };

/** Options of {@linkcode verifyJwt}. */
export interface VerifyOptions {
  /** The `iss` required. */
  readonly issuer: string;
  /** The audience required in `aud`. */
  readonly audience: string;
  /** The time to check against (default: now). */
  readonly now?: Date;
  /** Clock skew tolerated on `exp` and `nbf`, in seconds (default 30). */
  readonly leewaySeconds?: number;
}

/** The prefix of every message of a refusal. */
export const VERIFY_MESSAGE_PREFIX = "Cannot verify token: ";

/** The header of every token signed: the only algorithm accepted. */
const HEADER = { alg: "HS256", typ: "JWT" } as const;

/** The claims every token must hold. */
const REQUIRED_CLAIMS = ["sub", "role", "iss", "aud", "exp"] as const;

/** NumericDates after 9999-12-31T23:59:59Z are refused, so every date can be printed. */
const MAX_NUMERIC_DATE = 253_402_300_799;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Why `account` cannot be a token's `sub`, or undefined when it can: a
 * string, and the vocabulary's rule for a person's account
 * (`schemas/vocabulary/names.ts`: 1 to 48 bytes of UTF-8, no lone
 * surrogate, printable characters only: no controls such as NUL, newlines
 * or escape codes, no format characters).
 *
 * @param account The candidate.
 * @returns The problem, or undefined.
 *
 * @example
 * ```ts
 * import { accountProblem } from "./jwt.ts";
 * if (accountProblem("ALICE") !== undefined) throw new Error("ALICE refused");
 * if (accountProblem("é".repeat(25)) === undefined) throw new Error("50 bytes accepted");
 * if (accountProblem("ALICE\u0000") === undefined) throw new Error("NUL accepted");
 * ```
 */
export function accountProblem(account: unknown): string | undefined {
  if (typeof account !== "string") return `account must be a string, not ${typeOf(account)}`;
  const problem = accountNameProblem(account);
  return problem === undefined ? undefined : `account ${problem}`;
}

/**
 * Checks that `key` can sign and verify HS256.
 *
 * @throws {TypeError} If it cannot.
 */
function checkKey(key: CryptoKey, usage: KeyUsage, what: string): void {
  const algorithm = key.algorithm as Partial<HmacKeyAlgorithm>;
  if (
    algorithm.name !== "HMAC" || algorithm.hash?.name !== "SHA-256" || !key.usages.includes(usage)
  ) {
    throw new TypeError(
      `Cannot ${what} token: the key must be an HMAC SHA-256 key allowed to ${usage}`,
    );
  }
}

/**
 * Signs claims into a compact JWT with HS256.
 *
 * @param claims The claims; checked as {@linkcode verifyJwt} would check them.
 * @param key An HMAC SHA-256 key with the `sign` usage (see `loadSecret`).
 * @returns The token: `header.payload.signature`, base64url.
 * @throws {TypeError} If the key is not an HMAC SHA-256 signing key, or a
 *   claim has the wrong type, a bad account or an unknown role.
 * @throws {RangeError} If a date is out of range, or the token would be
 *   longer than {@linkcode MAX_TOKEN_BYTES}.
 *
 * @example
 * ```ts
 * import { signJwt, verifyJwt } from "./jwt.ts";
 * const key = await crypto.subtle.generateKey(
 *   { name: "HMAC", hash: "SHA-256", length: 256 }, false, ["sign", "verify"]);
 * const exp = Math.floor(Date.now() / 1000) + 60;
 * const token = await signJwt({ sub: "ALICE", role: "trader", iss: "me", aud: "you", exp }, key);
 * const result = await verifyJwt(token, key, { issuer: "me", audience: "you" });
 * if (!result.ok || result.claims.sub !== "ALICE") throw new Error("round trip failed");
 * ```
 */
export async function signJwt(claims: JwtClaims, key: CryptoKey): Promise<string> {
  checkKey(key, "sign", "sign");
  const problem = claimsProblem(claims as unknown as Record<string, unknown>);
  if (problem !== undefined) {
    const ErrorClass = problem.range ? RangeError : TypeError;
    throw new ErrorClass(`Cannot sign token: ${problem.message}`);
  }
  const payload: Record<string, unknown> = {
    iss: claims.iss,
    sub: claims.sub,
    aud: claims.aud,
    role: claims.role,
    exp: claims.exp,
  };
  if (claims.nbf !== undefined) payload.nbf = claims.nbf;
  if (claims.iat !== undefined) payload.iat = claims.iat;
  if (claims.jti !== undefined) payload.jti = claims.jti;
  if (claims.epoch !== undefined) payload.epoch = claims.epoch;
  const token = await new SignJWT(payload).setProtectedHeader(HEADER).sign(key);
  if (token.length > MAX_TOKEN_BYTES) {
    throw new RangeError(
      `Cannot sign token: it would be ${token.length} bytes, over ${MAX_TOKEN_BYTES}`,
    );
  }
  return token;
}

/**
 * Verifies a compact JWT: HS256 only, then issuer, audience, expiry and the
 * gateway's claims. Never throws on a bad token.
 *
 * @param token The token, as received.
 * @param key An HMAC SHA-256 key with the `verify` usage.
 * @param options The issuer and audience required, the time and the leeway.
 * @returns `{ ok: true, claims }`, or `{ ok: false, reason, message }` where
 *   the message says what failed and why.
 * @throws {TypeError} If the key is not an HMAC SHA-256 verifying key, or
 *   the leeway is not a non-negative finite number (programming errors, not
 *   bad input).
 *
 * @example
 * ```ts
 * import { verifyJwt } from "./jwt.ts";
 * const key = await crypto.subtle.generateKey(
 *   { name: "HMAC", hash: "SHA-256", length: 256 }, false, ["sign", "verify"]);
 * // {"alg":"none"}.{"sub":"ALICE"}. with no signature
 * const result = await verifyJwt("eyJhbGciOiJub25lIn0.eyJzdWIiOiJBTElDRSJ9.", key, {
 *   issuer: "tradecaptain-core",
 *   audience: "tradecaptain-gateway",
 * });
 * if (result.ok || result.reason !== "bad_algorithm") throw new Error("alg none accepted");
 * ```
 */
export async function verifyJwt(
  token: string,
  key: CryptoKey,
  options: VerifyOptions,
): Promise<JwtVerification> {
  checkKey(key, "verify", "verify");
  const leeway = options.leewaySeconds ?? DEFAULT_LEEWAY_SECONDS;
  if (!Number.isFinite(leeway) || leeway < 0) {
    throw new TypeError(`Cannot verify token: leewaySeconds must be >= 0, not ${leeway}`);
  }
  if (typeof token !== "string") {
    return fail("malformed", `the token must be a string, not ${typeOf(token)}`);
  }
  if (token.length > MAX_TOKEN_BYTES) {
    return fail("malformed", `the token is ${token.length} bytes, over ${MAX_TOKEN_BYTES}`);
  }
  const parts = token.split(".");
  if (parts.length !== 3) {
    return fail(
      "malformed",
      `a token must have 3 dot-separated parts (header.payload.signature), not ${parts.length}`,
    );
  }
  const [headerText, payloadText, signatureText] = parts as [string, string, string];
  const header = jsonObject(headerText, "header");
  if (!header.ok) return header;
  const alg = header.value.alg;
  if (alg !== "HS256") {
    return fail(
      "bad_algorithm",
      `the header's alg must be "HS256", not ${
        alg === undefined ? "missing" : JSON.stringify(alg)
      }`,
    );
  }
  if (Object.hasOwn(header.value, "crit")) {
    // RFC 7515 §4.1.11: extensions listed in crit must be understood; we understand none.
    return fail(
      "malformed",
      "the header lists critical extensions (crit), which are not supported",
    );
  }
  const signature = decodeBase64Url(signatureText);
  if (signature === undefined) {
    return fail("malformed", "the signature is not base64url without padding");
  }
  if (signature.length !== 32) {
    return fail(
      "bad_signature",
      `an HS256 signature is 32 bytes, not ${signature.length}`,
    );
  }
  let claims: Record<string, unknown>;
  try {
    const verified = await jwtVerify<Record<string, unknown>>(token, key, {
      algorithms: [HEADER.alg],
      issuer: options.issuer,
      audience: options.audience,
      requiredClaims: [...REQUIRED_CLAIMS],
      clockTolerance: leeway,
      currentDate: options.now ?? new Date(),
    });
    claims = verified.payload;
  } catch (error) {
    return refusal(error, payloadText, options);
  }
  // jose checked the registered claims it knows; the gateway's own come now.
  const problem = claimsProblem(claims);
  if (problem !== undefined) return fail(problem.reason, problem.message);
  const aud = claims.aud as string | string[];
  const nbf = claims.nbf as number | undefined;
  return {
    ok: true,
    claims: {
      sub: claims.sub as string,
      role: claims.role as Role,
      iss: claims.iss as string,
      aud: typeof aud === "string" ? aud : Object.freeze([...aud]),
      exp: claims.exp as number,
      ...(claims.iat === undefined ? {} : { iat: claims.iat as number }),
      ...(nbf === undefined ? {} : { nbf }),
      ...(claims.jti === undefined ? {} : { jti: claims.jti as string }),
      ...(claims.epoch === undefined ? {} : { epoch: claims.epoch as number }),
    },
  };
}

/**
 * Turns what `jose` threw into a refusal with the gateway's reason. A claim
 * of the wrong type or a gateway claim at fault is named first, as when
 * every claim is read before issuer, audience and time are compared.
 *
 * @throws {unknown} Anything `jose` throws that is not a JOSE error (a
 *   programming error, not bad input).
 */
function refusal(error: unknown, payloadText: string, options: VerifyOptions): Failure {
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return fail("bad_signature", "the signature does not match (signed with another key?)");
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return fail("bad_algorithm", `the header's alg must be "HS256" (${error.message})`);
  }
  if (error instanceof errors.JWTInvalid) {
    // The signature held; the payload is not a JSON object: say which way.
    const payload = jsonObject(payloadText, "payload");
    return payload.ok ? fail("malformed", `the payload is invalid (${error.message})`) : payload;
  }
  if (error instanceof errors.JWTClaimValidationFailed || error instanceof errors.JWTExpired) {
    const claims = error.payload as Record<string, unknown>;
    const problem = claimsProblem(claims);
    if (problem !== undefined) return fail(problem.reason, problem.message);
    switch (error.claim) {
      case "iss":
        return fail(
          "wrong_issuer",
          `the token was issued by ${JSON.stringify(claims.iss)}, not ${
            JSON.stringify(options.issuer)
          }`,
        );
      case "aud":
        return fail(
          "wrong_audience",
          `the token is for ${JSON.stringify(claims.aud)}, not ${JSON.stringify(options.audience)}`,
        );
      case "exp":
        return fail("expired", `token expired at ${isoSeconds(claims.exp as number)}`);
      case "nbf":
        return fail(
          "not_yet_valid",
          `token is not valid before ${isoSeconds(claims.nbf as number)}`,
        );
    }
    return fail("malformed", `the claims are invalid (${error.message})`);
  }
  if (error instanceof errors.JOSEError) {
    return fail("malformed", `the token is not a valid JWS (${error.message})`);
  }
  throw error;
}

type Failure = { readonly ok: false; readonly reason: JwtFailureReason; readonly message: string };

function fail(reason: JwtFailureReason, detail: string): Failure {
  return { ok: false, reason, message: VERIFY_MESSAGE_PREFIX + detail };
}

/** Decodes one part as a JSON object, or says why it is not one. */
function jsonObject(
  text: string,
  what: string,
): { ok: true; value: Record<string, unknown> } | Failure {
  const bytes = decodeBase64Url(text);
  if (bytes === undefined) return fail("malformed", `the ${what} is not base64url without padding`);
  let value: unknown;
  try {
    value = JSON.parse(strictUtf8.decode(bytes));
  } catch {
    return fail("malformed", `the ${what} is not JSON in UTF-8`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return fail("malformed", `the ${what} must be a JSON object, not ${typeOf(value)}`);
  }
  return { ok: true, value: value as Record<string, unknown> };
}

interface ClaimProblem {
  readonly reason: JwtFailureReason;
  readonly message: string;
  /** A value out of range rather than of the wrong type. */
  readonly range?: boolean;
}

/** Checks presence and types of the claims; issuer, audience and time are checked by the caller. */
function claimsProblem(claims: Record<string, unknown>): ClaimProblem | undefined {
  for (const name of ["sub", "role", "iss", "aud", "exp"]) {
    if (!Object.hasOwn(claims, name) || claims[name] === undefined) {
      return { reason: "missing_claim", message: `the token has no ${name} claim` };
    }
  }
  const account = accountProblem(claims.sub);
  if (account !== undefined) return { reason: "bad_account", message: `sub: ${account}` };
  if (!isRole(claims.role)) {
    return {
      reason: "bad_role",
      message: `role must be one of ${ROLES.join(", ")}, not ${
        typeof claims.role === "string" ? JSON.stringify(claims.role) : typeOf(claims.role)
      }`,
    };
  }
  if (typeof claims.iss !== "string") {
    return { reason: "malformed", message: `iss must be a string, not ${typeOf(claims.iss)}` };
  }
  const aud = claims.aud;
  if (
    typeof aud !== "string" &&
    !(Array.isArray(aud) && aud.every((a: unknown) => typeof a === "string"))
  ) {
    return {
      reason: "malformed",
      message: `aud must be a string or an array of strings, not ${typeOf(aud)}`,
    };
  }
  for (const name of ["exp", "iat", "nbf"]) {
    const value = claims[name];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isFinite(value)) {
      return { reason: "malformed", message: `${name} must be a number, not ${typeOf(value)}` };
    }
    if (value < 0 || value > MAX_NUMERIC_DATE) {
      return {
        reason: "malformed",
        range: true,
        message: `${name} must be seconds from 0 to ${MAX_NUMERIC_DATE}, not ${value}`,
      };
    }
  }
  if (claims.jti !== undefined && typeof claims.jti !== "string") {
    return { reason: "malformed", message: `jti must be a string, not ${typeOf(claims.jti)}` };
  }
  const epoch = claims.epoch;
  if (epoch !== undefined && !(Number.isSafeInteger(epoch) && (epoch as number) >= 0)) {
    return {
      reason: "malformed",
      range: typeof epoch === "number",
      message: `epoch must be a non-negative safe integer, not ${
        typeof epoch === "number" ? epoch : typeOf(epoch)
      }`,
    };
  }
  return undefined;
}

/** A NumericDate as ISO 8601 in UTC, without milliseconds when they are zero. */
function isoSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(".000Z", "Z");
}

function typeOf(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
