/**
 * The native kernels from Deno: the `dlopen` table, the record codecs, the
 * ring-driven engine and the native {@linkcode Matcher}s. This folder is the
 * only caller of `Deno.dlopen` in the project.
 *
 * @example
 * ```ts
 * import { openNativeMatcher } from "./mod.ts";
 * import { loadInstruments } from "../matching/instruments.ts";
 * const matcher = openNativeMatcher(loadInstruments());
 * if (matcher.apply({ kind: 2, id: 9 })[0]?.kind !== 2) throw new Error("expected a reject");
 * matcher.close();
 * ```
 *
 * @module
 */

export * from "./engine.ts";
export * from "./journal.ts";
export * from "./native_matcher.ts";
export * from "./records.ts";
export * from "./symbols.ts";
