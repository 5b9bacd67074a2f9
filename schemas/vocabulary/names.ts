/**
 * What names are valid: symbols and accounts, one rule each, for the
 * instrument table, the replay tool, the journal's records, the wire, the
 * gateway's tokens, the account store and the edge.
 *
 * - A **symbol** is 1 to 12 of `[A-Z0-9.-]` ({@linkcode SYMBOL_PATTERN}).
 * - An **account name** the engine can journal is 1 to
 *   {@linkcode MAX_ACCOUNT_BYTES} bytes of UTF-8 with no lone surrogate
 *   ({@linkcode accountNameFault}); one a person may hold (registered in the
 *   account store, named in a token) is also printable only
 *   ({@linkcode accountNameProblem}).
 *
 * @module
 */

/** A symbol: 1–12 of `[A-Z0-9.-]`. */
export const SYMBOL_PATTERN: RegExp = /^[A-Z0-9.-]{1,12}$/;

/**
 * {@linkcode SYMBOL_PATTERN} in any case of ASCII letters (`aapl`): a path
 * the edge redirects to its symbol's own spelling. The `i` flag without `u`
 * folds ASCII letters only (no `ſ` for `S`, no Kelvin sign for `K`).
 */
export const SYMBOL_PATTERN_ANY_CASE: RegExp = /* @__PURE__ */ new RegExp(
  SYMBOL_PATTERN.source,
  "i",
);

/** The symbol rule in words, for messages: "symbol must be " + this. */
export const SYMBOL_RULE_TEXT = "1 to 12 of [A-Z0-9.-]";

/**
 * Longest account name, in bytes of UTF-8: what the journal's define-account
 * record holds (`MAX_ACCOUNT_NAME` in `native/src/record.rs`).
 */
export const MAX_ACCOUNT_BYTES = 48;

/**
 * Longest gateway token (a compact JWT) read, in bytes: at a handshake and in
 * a `reauthenticate` frame; longer ones are refused before any decoding.
 */
export const MAX_TOKEN_BYTES = 4096;

/** Why an account name cannot be journaled; see {@linkcode accountNameFault}. */
export type AccountNameFault =
  | { readonly kind: "lone_surrogate" }
  | { readonly kind: "too_long"; readonly bytes: number };

// Pure: a bundle that takes only the symbol rule (the browser's) leaves it out.
const utf8 = /* @__PURE__ */ new TextEncoder();

/**
 * Why a non-empty account name cannot be journaled, or undefined when it
 * can: the engine's rule, for the replay tool, the wire and the gateway's
 * tokens.
 *
 * @param account The name.
 * @returns The fault, or undefined.
 *
 * @example
 * ```ts
 * import { accountNameFault } from "./names.ts";
 * if (accountNameFault("ALICE") !== undefined) throw new Error("ALICE refused");
 * if (accountNameFault("é".repeat(25))?.kind !== "too_long") throw new Error("50 bytes accepted");
 * ```
 */
export function accountNameFault(account: string): AccountNameFault | undefined {
  // A lone surrogate would be journaled as U+FFFD: two such names would
  // become one account after a restart.
  if (!account.isWellFormed()) return { kind: "lone_surrogate" };
  // A UTF-16 code unit takes at most 3 bytes of UTF-8: short names need no encoding.
  if (account.length * 3 <= MAX_ACCOUNT_BYTES) return undefined;
  const bytes = utf8.encode(account).length;
  return bytes > MAX_ACCOUNT_BYTES ? { kind: "too_long", bytes } : undefined;
}

/**
 * Characters an account name may not hold: controls (C0, DEL, C1: NUL,
 * newlines, escape codes), format characters (bidirectional overrides,
 * zero-width joiners), line and paragraph separators, private-use and
 * surrogate code points. A name is printed in logs, terminals and pages,
 * where these would hide or forge text.
 */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cs}]/u;

/**
 * The first character of `text` that is not printable (see
 * {@linkcode accountNameProblem}), as `U+000A at character 3`, or undefined
 * when every one is.
 *
 * @param text The text.
 * @returns Where the first unprintable character is, or undefined.
 *
 * @example
 * ```ts
 * import { unprintableCharacter } from "./names.ts";
 * if (unprintableCharacter("ALICE Smith") !== undefined) throw new Error("space refused");
 * if (unprintableCharacter("AL\nICE") !== "U+000A at character 3") throw new Error("newline let in");
 * ```
 */
export function unprintableCharacter(text: string): string | undefined {
  const match = UNPRINTABLE.exec(text);
  if (match === null) return undefined;
  const code = match[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
  // Characters, not UTF-16 units: what a person counts.
  return `U+${code} at character ${[...text.slice(0, match.index)].length + 1}`;
}

/**
 * Why `name` cannot be a person's account, or undefined when it can: the
 * engine's rule ({@linkcode accountNameFault}: not empty, at most
 * {@linkcode MAX_ACCOUNT_BYTES} bytes of UTF-8, no lone surrogate), so that
 * the account can be journaled, and printable characters only (no NUL,
 * newlines, escape codes or other controls, no format characters), since
 * names are printed in logs and pages.
 *
 * @param name The candidate.
 * @returns The problem, completing "account name …" (`"must not be
 *   empty"`, `"must be 1 to 48 bytes of UTF-8, not 50 bytes"`), or undefined.
 *
 * @example
 * ```ts
 * import { accountNameProblem } from "./names.ts";
 * if (accountNameProblem("ALICE") !== undefined) throw new Error("ALICE refused");
 * if (accountNameProblem("") !== "must not be empty") throw new Error("empty name accepted");
 * if (accountNameProblem("EVE\u001b[2J") === undefined) throw new Error("escape code accepted");
 * ```
 */
export function accountNameProblem(name: string): string | undefined {
  if (name === "") return "must not be empty";
  const fault = accountNameFault(name);
  if (fault !== undefined) {
    return fault.kind === "lone_surrogate"
      ? "holds a lone surrogate, which UTF-8 cannot encode"
      : `must be 1 to ${MAX_ACCOUNT_BYTES} bytes of UTF-8, not ${fault.bytes} bytes`;
  }
  const unprintable = unprintableCharacter(name);
  return unprintable === undefined
    ? undefined
    : `must hold printable characters only, not ${unprintable}`;
}
