/**
 * What the gateway's tests share: keys and hand-made tokens. Private to
 * `core/gateway/`.
 *
 * @module
 */

import { encodeBase64Url } from "./_base64url.ts";

/** The issuer and audience the tests use. */
export const OPTIONS = { issuer: "tradecaptain-core", audience: "tradecaptain-gateway" } as const;

/** 2026-11-25T10:00:00Z in seconds: the tests' "now". */
export const NOW = Date.UTC(2026, 10, 25, 10) / 1000;

/**
 * A fresh HMAC SHA-256 key.
 *
 * @returns The key.
 */
export function newKey(): Promise<CryptoKey> {
  return crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256", length: 256 }, false, [
    "sign",
    "verify",
  ]) as Promise<CryptoKey>;
}

/** Valid claims for ALICE, trader, valid for an hour around {@linkcode NOW}. */
export function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    sub: "ALICE",
    role: "trader",
    iss: OPTIONS.issuer,
    aud: OPTIONS.audience,
    iat: NOW - 60,
    exp: NOW + 3600,
    ...extra,
  };
}

/** The base64url of a string's UTF-8. */
export function b64(text: string): string {
  return encodeBase64Url(new TextEncoder().encode(text));
}

/**
 * A token made by hand, bypassing every check of `signJwt`: the header and
 * payload as given (objects are JSON-encoded, strings used as the JSON text),
 * signed with `key` over exactly those parts, or with `signature` verbatim.
 *
 * @param header The header.
 * @param payload The payload.
 * @param key The key to sign with; ignored when `signature` is given.
 * @param signature The signature part, verbatim.
 * @returns The token.
 */
export async function craft(
  header: Record<string, unknown> | string,
  payload: Record<string, unknown> | string,
  key?: CryptoKey,
  signature?: string,
): Promise<string> {
  const json = (v: Record<string, unknown> | string) =>
    typeof v === "string" ? v : JSON.stringify(v);
  const input = `${b64(json(header))}.${b64(json(payload))}`;
  if (signature !== undefined || key === undefined) return `${input}.${signature ?? ""}`;
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(input));
  return `${input}.${encodeBase64Url(new Uint8Array(mac))}`;
}

/** The HS256 header. */
export const HS256 = { alg: "HS256", typ: "JWT" } as const;
