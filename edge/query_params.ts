/**
 * The API's query parameters, checked. A refusal names the parameter and
 * says what is wrong, for a `400 bad_parameter` problem.
 *
 * @module
 */

import { SYMBOL_PATTERN, SYMBOL_RULE_TEXT } from "../schemas/vocabulary/names.ts";

/** A checked parameter, or why it is refused. */
export type ParamResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly detail: string };

/** The default most symbols one request may name. */
export const DEFAULT_MAX_SYMBOLS = 100;

const refuse = (detail: string) => ({ ok: false as const, detail });

/**
 * Checks `symbols`: absent means every symbol; otherwise a comma-separated
 * list of 1 to `max` symbols, each 1 to 12 of `[A-Z0-9.-]`, no entry empty.
 * Repeats are dropped, keeping the first.
 *
 * @param values Every value of the parameter (`c.req.queries("symbols")`).
 * @param max The most symbols allowed.
 * @returns The symbols in the order given, undefined for all, or the refusal.
 *
 * @example
 * ```ts
 * import { parseSymbolsParam } from "./query_params.ts";
 * const ok = parseSymbolsParam(["AAPL,MSFT,AAPL"], 100);
 * if (!ok.ok || ok.value?.join() !== "AAPL,MSFT") throw new Error("not parsed");
 * if (parseSymbolsParam(["AAPL,,MSFT"], 100).ok) throw new Error("empty entry let in");
 * ```
 */
export function parseSymbolsParam(
  values: readonly string[] | undefined,
  max: number,
): ParamResult<readonly string[] | undefined> {
  if (values === undefined || values.length === 0) return { ok: true, value: undefined };
  if (values.length > 1) return refuse("Cannot read symbols: it is given more than once");
  const text = values[0] ?? "";
  if (text === "") return refuse("Cannot read symbols: it is empty (leave it out for all)");
  const parts = text.split(",");
  if (parts.length > max) {
    return refuse(`Cannot read symbols: ${parts.length} entries, at most ${max}`);
  }
  const symbols = new Set<string>();
  for (const [i, part] of parts.entries()) {
    if (part === "") return refuse(`Cannot read symbols: entry ${i + 1} is empty`);
    if (!SYMBOL_PATTERN.test(part)) {
      return refuse(
        `Cannot read symbols: entry ${i + 1} (${
          JSON.stringify(part.slice(0, 20))
        }) is not ${SYMBOL_RULE_TEXT}`,
      );
    }
    symbols.add(part);
  }
  return { ok: true, value: [...symbols] };
}

/**
 * Checks a version parameter (`since`): absent, or a non-negative safe
 * integer in decimal.
 *
 * @param name The parameter's name, for the refusal.
 * @param values Every value of the parameter.
 * @returns The version, undefined when absent, or the refusal.
 *
 * @example
 * ```ts
 * import { parseVersionParam } from "./query_params.ts";
 * const v = parseVersionParam("since", ["42"]);
 * if (!v.ok || v.value !== 42) throw new Error("not parsed");
 * if (parseVersionParam("since", ["-1"]).ok) throw new Error("negative let in");
 * ```
 */
export function parseVersionParam(
  name: string,
  values: readonly string[] | undefined,
): ParamResult<number | undefined> {
  if (values === undefined || values.length === 0) return { ok: true, value: undefined };
  if (values.length > 1) return refuse(`Cannot read ${name}: it is given more than once`);
  const version = parseVersion(values[0]);
  return version === undefined
    ? refuse(`Cannot read ${name}: it must be a version, a non-negative integer`)
    : { ok: true, value: version };
}

/**
 * Reads a version written in decimal (a `since` value or a `Last-Event-ID`).
 *
 * @param text The text.
 * @returns The version, or undefined when `text` is not one.
 */
export function parseVersion(text: string | undefined | null): number | undefined {
  if (!text || text.length > 16 || !/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}
