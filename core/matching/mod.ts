/**
 * Matching: the engine's vocabulary, the instrument table, the replay tool's
 * JSON Lines protocol and loop, the reference matcher and the state hash.
 * The native engine lives in `core/native/` and implements the same
 * {@linkcode Matcher}.
 *
 * @example
 * ```ts
 * import { CommandParser, loadInstruments, ReferenceMatcher, replay } from "./mod.ts";
 * import assert from "node:assert";
 *
 * const instruments = loadInstruments();
 * const out: string[] = [];
 * await replay(
 *   [
 *     '{"op":"new","id":1,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":10050,"qty":5}',
 *     '{"op":"new","id":2,"account":"B","symbol":"AAPL","side":"buy","type":"market","qty":3}',
 *   ],
 *   new ReferenceMatcher(instruments),
 *   new CommandParser(instruments),
 *   (line) => void out.push(line),
 * );
 * assert.deepStrictEqual(out, [
 *   '{"ev":"accepted","id":1,"symbol":"AAPL"}',
 *   '{"ev":"accepted","id":2,"symbol":"AAPL"}',
 *   '{"ev":"trade","taker":2,"maker":1,"price":10050,"qty":3,"symbol":"AAPL"}',
 * ]);
 * ```
 *
 * @module
 */

export * from "./types.ts";
export * from "./instruments.ts";
export * from "./protocol.ts";
export * from "./replay.ts";
export * from "./reference_matcher.ts";
export * from "./state_hash.ts";
