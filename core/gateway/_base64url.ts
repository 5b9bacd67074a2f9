/**
 * Strict base64url (RFC 4648 §5) without padding: the one encoding of JWT
 * parts. Private to the gateway.
 *
 * @module
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i;

/**
 * Encodes bytes as base64url without padding.
 *
 * @param bytes The bytes.
 * @returns Their base64url text.
 *
 * @example
 * ```ts
 * import { encodeBase64Url } from "./_base64url.ts";
 * if (encodeBase64Url(new Uint8Array([0xfb, 0xff])) !== "-_8") throw new Error("bad encoding");
 * ```
 */
export function encodeBase64Url(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = bytes[i]! << 16 | bytes[i + 1]! << 8 | bytes[i + 2]!;
    out += ALPHABET[n >> 18]! + ALPHABET[n >> 12 & 63]! + ALPHABET[n >> 6 & 63]! +
      ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += ALPHABET[n >> 18]! + ALPHABET[n >> 12 & 63]!;
  } else if (rest === 2) {
    const n = bytes[i]! << 16 | bytes[i + 1]! << 8;
    out += ALPHABET[n >> 18]! + ALPHABET[n >> 12 & 63]! + ALPHABET[n >> 6 & 63]!;
  }
  return out;
}

/**
 * Decodes base64url strictly: only the 64 letters of the alphabet, no
 * padding, no whitespace, and the unused bits of the last letter zero. So
 * each byte string has exactly one accepted text, and a signature cannot be
 * re-spelled.
 *
 * @param text The text.
 * @returns The bytes, or undefined when `text` is not strict base64url.
 *
 * @example
 * ```ts
 * import { decodeBase64Url } from "./_base64url.ts";
 * if (decodeBase64Url("-_8")?.length !== 2) throw new Error("bad decoding");
 * if (decodeBase64Url("-_9") !== undefined) throw new Error("non-zero trailing bits accepted");
 * if (decodeBase64Url("-_8=") !== undefined) throw new Error("padding accepted");
 * ```
 */
export function decodeBase64Url(text: string): Uint8Array<ArrayBuffer> | undefined {
  const rest = text.length % 4;
  if (rest === 1) return undefined;
  const out = new Uint8Array((text.length >> 2) * 3 + (rest === 0 ? 0 : rest - 1));
  let o = 0;
  let i = 0;
  const value = (k: number): number => {
    const c = text.charCodeAt(k);
    return c < 128 ? VALUES[c]! : -1;
  };
  for (; i + 3 < text.length; i += 4) {
    const a = value(i), b = value(i + 1), c = value(i + 2), d = value(i + 3);
    if ((a | b | c | d) < 0) return undefined;
    const n = a << 18 | b << 12 | c << 6 | d;
    out[o++] = n >> 16;
    out[o++] = n >> 8 & 255;
    out[o++] = n & 255;
  }
  if (rest === 2) {
    const a = value(i), b = value(i + 1);
    if ((a | b) < 0 || (b & 15) !== 0) return undefined;
    out[o] = a << 2 | b >> 4;
  } else if (rest === 3) {
    const a = value(i), b = value(i + 1), c = value(i + 2);
    if ((a | b | c) < 0 || (c & 3) !== 0) return undefined;
    const n = a << 18 | b << 12 | c << 6;
    out[o++] = n >> 16;
    out[o] = n >> 8 & 255;
  }
  return out;
}
