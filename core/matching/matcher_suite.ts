/**
 * The one behaviour suite every {@linkcode Matcher} must pass (the shape of
 * hono's common.case.test.ts, one suite run against every router): the
 * reference matcher and the native engine each register it under their own
 * name. Cases are JSON Lines, exactly as
 * the replay tool reads and writes them, so they double as the protocol's
 * worked examples.
 *
 * Also a seeded command generator for property tests that compare matchers.
 *
 * @module
 */

import assert from "node:assert";
import { loadInstruments } from "./instruments.ts";
import { CommandParser } from "./protocol.ts";
import { replay } from "./replay.ts";
import { StateHasher } from "./state_hash.ts";
import {
  type Command,
  CommandKind,
  type EngineEvent,
  EventKind,
  type Instrument,
  INVALID_PRICE,
  type Matcher,
  NO_PRICE,
  OrderType,
  Side,
  TimeInForce,
  UNKNOWN_INSTRUMENT,
} from "./types.ts";
import { mulberry32 } from "../synthetic/rng.ts";

/**
 * Registers the shared behaviour tests for one matcher implementation, each
 * named `"<name>: <claim>"`. Every test opens a fresh matcher on the
 * repository's instrument table and closes it.
 *
 * @param name The implementation's name, prefixed to every test name.
 * @param open Opens a matcher on an instrument table.
 *
 * @example
 * ```ts ignore
 * // In a *_test.ts file (Deno.test cannot run inside a doc test):
 * import { matcherSuite } from "./matcher_suite.ts";
 * import { ReferenceMatcher } from "./reference_matcher.ts";
 *
 * matcherSuite("reference", (instruments) => new ReferenceMatcher(instruments));
 * ```
 */
export function matcherSuite(
  name: string,
  open: (instruments: readonly Instrument[]) => Matcher,
): void {
  const instruments = loadInstruments();
  const test = (claim: string, fn: () => void | Promise<void>) =>
    Deno.test(`${name}: ${claim}`, fn);
  const withMatcher = async <T>(fn: (matcher: Matcher) => T | Promise<T>): Promise<T> => {
    const matcher = open(instruments);
    try {
      return await fn(matcher);
    } finally {
      matcher.close();
    }
  };

  /**
   * Replays `input` (command lines) as the replay tool would and compares the
   * events with `expected` (event lines) on their named fields: the
   * `"symbol"` extra is dropped. Each text's first and last line may be
   * empty (template literal layout) and every line is trimmed; other blank
   * lines of `input` count, as they do for the tool.
   */
  const check = (input: string, expected: string) =>
    withMatcher(async (matcher) => {
      const out: string[] = [];
      // A tiny batch makes most cases cross batch boundaries, which a
      // pipelined engine must get right.
      await replay(textLines(input), matcher, new CommandParser(instruments), (line) => {
        out.push(line);
      }, { batch: 3 });
      const actual = out.map((line) => {
        const { symbol: _, ...fields } = JSON.parse(line) as Record<string, unknown>;
        return fields;
      });
      const wanted = textLines(expected).filter((line) => line !== "").map((line) =>
        JSON.parse(line) as unknown
      );
      assert.deepStrictEqual(actual, wanted);
    });

  // --- new, matching and resting ----------------------------------------------------------------

  test("new accepts a limit order that does not cross and rests it without further events", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":10}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"sell","type":"limit","tif":"gtc","price":101,"qty":10,"postOnly":false}
      {"op":"cancel","id":1}
      {"op":"cancel","id":2}
      `,
      `
      {"ev":"accepted","id":1}
      {"ev":"accepted","id":2}
      {"ev":"cancelled","id":1,"leaves":10}
      {"ev":"cancelled","id":2,"leaves":10}
      `,
    ));

  test("match() fills at the resting price when crossing", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":10}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"buy","type":"limit","price":105,"qty":10}
      {"op":"new","id":3,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":5}
      {"op":"new","id":4,"account":"B","symbol":"AAPL","side":"sell","type":"limit","price":95,"qty":5}
      {"op":"cancel","id":2}
      `,
      `
      {"ev":"accepted","id":1}
      {"ev":"accepted","id":2}
      {"ev":"trade","taker":2,"maker":1,"price":100,"qty":10}
      {"ev":"accepted","id":3}
      {"ev":"accepted","id":4}
      {"ev":"trade","taker":4,"maker":3,"price":100,"qty":5}
      {"ev":"rejected","id":2,"reason":"unknown_order"}
      `,
    ));

  test("match() fills partially on both sides and rests the taker's remainder", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":10}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":4}
      {"op":"new","id":3,"account":"C","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":10}
      {"op":"new","id":4,"account":"D","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":3}
      {"op":"cancel","id":3}
      `,
      `
      {"ev":"accepted","id":1}
      {"ev":"accepted","id":2}
      {"ev":"trade","taker":2,"maker":1,"price":100,"qty":4}
      {"ev":"accepted","id":3}
      {"ev":"trade","taker":3,"maker":1,"price":100,"qty":6}
      {"ev":"accepted","id":4}
      {"ev":"trade","taker":4,"maker":3,"price":100,"qty":3}
      {"ev":"cancelled","id":3,"leaves":1}
      `,
    ));

  test("match() takes the best price first, and the oldest order first within a price", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":101,"qty":5}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":5}
      {"op":"new","id":3,"account":"C","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":5}
      {"op":"new","id":4,"account":"D","symbol":"AAPL","side":"sell","type":"limit","price":102,"qty":5}
      {"op":"new","id":5,"account":"E","symbol":"AAPL","side":"buy","type":"limit","price":101,"qty":12}
      {"op":"new","id":6,"account":"E","symbol":"AAPL","side":"buy","type":"limit","price":102,"qty":10}
      {"op":"new","id":7,"account":"F","symbol":"AAPL","side":"sell","type":"limit","price":102,"qty":2}
      {"op":"new","id":8,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":99,"qty":5}
      {"op":"new","id":9,"account":"B","symbol":"AAPL","side":"buy","type":"limit","price":98,"qty":5}
      {"op":"new","id":10,"account":"C","symbol":"AAPL","side":"buy","type":"limit","price":99,"qty":5}
      {"op":"new","id":11,"account":"D","symbol":"AAPL","side":"sell","type":"market","qty":12}
      `,
      `
      {"ev":"accepted","id":1}
      {"ev":"accepted","id":2}
      {"ev":"accepted","id":3}
      {"ev":"accepted","id":4}
      {"ev":"accepted","id":5}
      {"ev":"trade","taker":5,"maker":2,"price":100,"qty":5}
      {"ev":"trade","taker":5,"maker":3,"price":100,"qty":5}
      {"ev":"trade","taker":5,"maker":1,"price":101,"qty":2}
      {"ev":"accepted","id":6}
      {"ev":"trade","taker":6,"maker":1,"price":101,"qty":3}
      {"ev":"trade","taker":6,"maker":4,"price":102,"qty":5}
      {"ev":"accepted","id":7}
      {"ev":"trade","taker":7,"maker":6,"price":102,"qty":2}
      {"ev":"accepted","id":8}
      {"ev":"accepted","id":9}
      {"ev":"accepted","id":10}
      {"ev":"accepted","id":11}
      {"ev":"trade","taker":11,"maker":8,"price":99,"qty":5}
      {"ev":"trade","taker":11,"maker":10,"price":99,"qty":5}
      {"ev":"trade","taker":11,"maker":9,"price":98,"qty":2}
      `,
    ));

  test("match() stops at the first opposite price beyond the limit and rests the rest", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":101,"qty":5}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":5}
      {"op":"new","id":3,"account":"B","symbol":"AAPL","side":"buy","type":"limit","price":98,"qty":5}
      {"op":"new","id":4,"account":"C","symbol":"AAPL","side":"sell","type":"limit","price":99,"qty":8}
      {"op":"new","id":5,"account":"D","symbol":"AAPL","side":"buy","type":"limit","price":101,"qty":4}
      `,
      `
      {"ev":"accepted","id":1}
      {"ev":"accepted","id":2}
      {"ev":"accepted","id":3}
      {"ev":"accepted","id":4}
      {"ev":"trade","taker":4,"maker":2,"price":100,"qty":5}
      {"ev":"accepted","id":5}
      {"ev":"trade","taker":5,"maker":4,"price":99,"qty":3}
      {"ev":"trade","taker":5,"maker":1,"price":101,"qty":1}
      `,
    ));

  // --- market, IOC, FOK ---------------------------------------------------------------------------

  test("market order sweeps every price level and expires its remainder", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":5}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"sell","type":"limit","price":110,"qty":5}
      {"op":"new","id":3,"account":"C","symbol":"AAPL","side":"buy","type":"market","qty":12}
      `,
      `
      {"ev":"accepted","id":1}
      {"ev":"accepted","id":2}
      {"ev":"accepted","id":3}
      {"ev":"trade","taker":3,"maker":1,"price":100,"qty":5}
      {"ev":"trade","taker":3,"maker":2,"price":110,"qty":5}
      {"ev":"expired","id":3,"leaves":2}
      `,
    ));

  test("market order never rests, whatever its tif, and expires whole in an empty book", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"buy","type":"market","tif":"gtc","qty":5}
      {"op":"new","id":2,"account":"A","symbol":"AAPL","side":"sell","type":"market","tif":"ioc","qty":5,"price":null}
      {"op":"new","id":3,"account":"B","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":2}
      {"op":"new","id":4,"account":"A","symbol":"AAPL","side":"buy","type":"market","tif":"gtc","qty":5}
      {"op":"new","id":5,"account":"C","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":1}
      `,
      `
      {"ev":"accepted","id":1}
      {"ev":"expired","id":1,"leaves":5}
      {"ev":"accepted","id":2}
      {"ev":"expired","id":2,"leaves":5}
      {"ev":"accepted","id":3}
      {"ev":"accepted","id":4}
      {"ev":"trade","taker":4,"maker":3,"price":100,"qty":2}
      {"ev":"expired","id":4,"leaves":3}
      {"ev":"accepted","id":5}
      `,
    ));

  test("market FOK counts liquidity at any price", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":5}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"sell","type":"limit","price":500,"qty":5}
      {"op":"new","id":3,"account":"C","symbol":"AAPL","side":"buy","type":"market","tif":"fok","qty":11}
      {"op":"new","id":4,"account":"C","symbol":"AAPL","side":"buy","type":"market","tif":"fok","qty":10}
      `,
      `
      {"ev":"accepted","id":1}
      {"ev":"accepted","id":2}
      {"ev":"accepted","id":3}
      {"ev":"expired","id":3,"leaves":11}
      {"ev":"accepted","id":4}
      {"ev":"trade","taker":4,"maker":1,"price":100,"qty":5}
      {"ev":"trade","taker":4,"maker":2,"price":500,"qty":5}
      `,
    ));

  test("market order carrying a price is rejected invalid_order", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"buy","type":"market","price":100,"qty":5}
      {"op":"new","id":2,"account":"A","symbol":"AAPL","side":"buy","type":"market","price":0,"qty":5}
      {"op":"new","id":3,"account":"A","symbol":"AAPL","side":"buy","type":"market","price":"x","qty":5}
      `,
      `
      {"ev":"rejected","id":1,"reason":"invalid_order"}
      {"ev":"rejected","id":2,"reason":"invalid_order"}
      {"ev":"rejected","id":3,"reason":"invalid_order"}
      `,
    ));

  test("IOC trades what it can, expires the rest and never rests", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":5}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"buy","type":"limit","tif":"ioc","price":100,"qty":8}
      {"op":"new","id":3,"account":"B","symbol":"AAPL","side":"buy","type":"limit","tif":"ioc","price":100,"qty":5}
      {"op":"new","id":4,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":5}
      {"op":"new","id":5,"account":"B","symbol":"AAPL","side":"buy","type":"limit","tif":"ioc","price":100,"qty":5}
      {"op":"new","id":6,"account":"C","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":1}
      `,
      `
      {"ev":"accepted","id":1}
      {"ev":"accepted","id":2}
      {"ev":"trade","taker":2,"maker":1,"price":100,"qty":5}
      {"ev":"expired","id":2,"leaves":3}
      {"ev":"accepted","id":3}
      {"ev":"expired","id":3,"leaves":5}
      {"ev":"accepted","id":4}
      {"ev":"accepted","id":5}
      {"ev":"trade","taker":5,"maker":4,"price":100,"qty":5}
      {"ev":"accepted","id":6}
      `,
    ));

  test("FOK fills completely across levels when other accounts' liquidity suffices", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":5}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"sell","type":"limit","price":101,"qty":5}
      {"op":"new","id":3,"account":"C","symbol":"AAPL","side":"buy","type":"limit","tif":"fok","price":101,"qty":10}
      `,
      `
      {"ev":"accepted","id":1}
      {"ev":"accepted","id":2}
      {"ev":"accepted","id":3}
      {"ev":"trade","taker":3,"maker":1,"price":100,"qty":5}
      {"ev":"trade","taker":3,"maker":2,"price":101,"qty":5}
      `,
    ));

  test("FOK expires whole, touching nothing, when acceptable liquidity falls short", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":5}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"buy","type":"limit","price":98,"qty":5}
      {"op":"new","id":3,"account":"C","symbol":"AAPL","side":"sell","type":"limit","tif":"fok","price":99,"qty":6}
      {"op":"new","id":4,"account":"D","symbol":"AAPL","side":"sell","type":"limit","price":98,"qty":10}
      `,
      `
      {"ev":"accepted","id":1}
      {"ev":"accepted","id":2}
      {"ev":"accepted","id":3}
      {"ev":"expired","id":3,"leaves":6}
      {"ev":"accepted","id":4}
      {"ev":"trade","taker":4,"maker":1,"price":100,"qty":5}
      {"ev":"trade","taker":4,"maker":2,"price":98,"qty":5}
      `,
    ));

  test("FOK does not count the taker's own resting liquidity", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":5}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":5}
      {"op":"new","id":3,"account":"A","symbol":"AAPL","side":"buy","type":"limit","tif":"fok","price":100,"qty":8}
      {"op":"new","id":4,"account":"A","symbol":"AAPL","side":"buy","type":"limit","tif":"fok","price":100,"qty":5}
      `,
      `
      {"ev":"accepted","id":1}
      {"ev":"accepted","id":2}
      {"ev":"accepted","id":3}
      {"ev":"expired","id":3,"leaves":8}
      {"ev":"accepted","id":4}
      {"ev":"cancelled","id":1,"leaves":5,"reason":"self_trade"}
      {"ev":"trade","taker":4,"maker":2,"price":100,"qty":5}
      `,
    ));

  // --- post-only ----------------------------------------------------------------------------------

  test("post-only order rests when it does not cross", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":101,"qty":5}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":5,"postOnly":true}
      {"op":"new","id":3,"account":"B","symbol":"AAPL","side":"sell","type":"limit","tif":"gtc","price":102,"qty":5,"postOnly":true}
      {"op":"new","id":4,"account":"C","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":5}
      `,
      `
      {"ev":"accepted","id":1}
      {"ev":"accepted","id":2}
      {"ev":"accepted","id":3}
      {"ev":"accepted","id":4}
      {"ev":"trade","taker":4,"maker":2,"price":100,"qty":5}
      `,
    ));

  test("post-only order that would cross, at the best price or through it, is rejected would_cross", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":101,"qty":5}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"buy","type":"limit","price":99,"qty":5}
      {"op":"new","id":3,"account":"C","symbol":"AAPL","side":"buy","type":"limit","price":101,"qty":5,"postOnly":true}
      {"op":"new","id":4,"account":"C","symbol":"AAPL","side":"buy","type":"limit","price":102,"qty":5,"postOnly":true}
      {"op":"new","id":5,"account":"C","symbol":"AAPL","side":"sell","type":"limit","price":99,"qty":5,"postOnly":true}
      {"op":"new","id":6,"account":"C","symbol":"AAPL","side":"sell","type":"limit","price":98,"qty":5,"postOnly":true}
      {"op":"new","id":7,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":101,"qty":5,"postOnly":true}
      {"op":"cancel","id":1}
      {"op":"cancel","id":2}
      `,
      `
      {"ev":"accepted","id":1}
      {"ev":"accepted","id":2}
      {"ev":"rejected","id":3,"reason":"would_cross"}
      {"ev":"rejected","id":4,"reason":"would_cross"}
      {"ev":"rejected","id":5,"reason":"would_cross"}
      {"ev":"rejected","id":6,"reason":"would_cross"}
      {"ev":"rejected","id":7,"reason":"would_cross"}
      {"ev":"cancelled","id":1,"leaves":5}
      {"ev":"cancelled","id":2,"leaves":5}
      `,
    ));

  test("post-only on anything but a GTC limit order is rejected invalid_order", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"buy","type":"limit","tif":"ioc","price":100,"qty":5,"postOnly":true}
      {"op":"new","id":2,"account":"A","symbol":"AAPL","side":"buy","type":"limit","tif":"fok","price":100,"qty":5,"postOnly":true}
      {"op":"new","id":3,"account":"A","symbol":"AAPL","side":"buy","type":"market","qty":5,"postOnly":true}
      {"op":"new","id":4,"account":"A","symbol":"AAPL","side":"buy","type":"limit","tif":"ioc","price":100,"qty":5,"postOnly":false}
      `,
      `
      {"ev":"rejected","id":1,"reason":"invalid_order"}
      {"ev":"rejected","id":2,"reason":"invalid_order"}
      {"ev":"rejected","id":3,"reason":"invalid_order"}
      {"ev":"accepted","id":4}
      {"ev":"expired","id":4,"leaves":5}
      `,
    ));

  // --- self-trade prevention ----------------------------------------------------------------------

  test("self-trade prevention cancels the resting order and matching goes on", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":5}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":5}
      {"op":"new","id":3,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":101,"qty":5}
      {"op":"new","id":4,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":101,"qty":12}
      {"op":"new","id":5,"account":"C","symbol":"AAPL","side":"sell","type":"limit","price":101,"qty":7}
      `,
      `
      {"ev":"accepted","id":1}
      {"ev":"accepted","id":2}
      {"ev":"accepted","id":3}
      {"ev":"accepted","id":4}
      {"ev":"cancelled","id":1,"leaves":5,"reason":"self_trade"}
      {"ev":"trade","taker":4,"maker":2,"price":100,"qty":5}
      {"ev":"cancelled","id":3,"leaves":5,"reason":"self_trade"}
      {"ev":"accepted","id":5}
      {"ev":"trade","taker":5,"maker":4,"price":101,"qty":7}
      `,
    ));

  test("self-trade prevention reports a partly filled resting order's leaves", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":5}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":2}
      {"op":"new","id":3,"account":"A","symbol":"AAPL","side":"sell","type":"market","qty":1}
      `,
      `
      {"ev":"accepted","id":1}
      {"ev":"accepted","id":2}
      {"ev":"trade","taker":2,"maker":1,"price":100,"qty":2}
      {"ev":"accepted","id":3}
      {"ev":"cancelled","id":1,"leaves":3,"reason":"self_trade"}
      {"ev":"expired","id":3,"leaves":1}
      `,
    ));

  // --- cancel -------------------------------------------------------------------------------------

  test("cancel removes a resting order with its leaves; cancelling again is unknown_order", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":10}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":4}
      {"op":"cancel","id":1}
      {"op":"cancel","id":1}
      {"op":"new","id":3,"account":"C","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":4}
      `,
      `
      {"ev":"accepted","id":1}
      {"ev":"accepted","id":2}
      {"ev":"trade","taker":2,"maker":1,"price":100,"qty":4}
      {"ev":"cancelled","id":1,"leaves":6}
      {"ev":"rejected","id":1,"reason":"unknown_order"}
      {"ev":"accepted","id":3}
      `,
    ));

  test("cancel of an id that never rested, was filled, expired or was rejected is unknown_order", () =>
    check(
      `
      {"op":"cancel","id":99}
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":5}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":5}
      {"op":"new","id":3,"account":"B","symbol":"AAPL","side":"buy","type":"limit","tif":"ioc","price":100,"qty":5}
      {"op":"new","id":4,"account":"B","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":0}
      {"op":"cancel","id":1}
      {"op":"cancel","id":2}
      {"op":"cancel","id":3}
      {"op":"cancel","id":4}
      `,
      `
      {"ev":"rejected","id":99,"reason":"unknown_order"}
      {"ev":"accepted","id":1}
      {"ev":"accepted","id":2}
      {"ev":"trade","taker":2,"maker":1,"price":100,"qty":5}
      {"ev":"accepted","id":3}
      {"ev":"expired","id":3,"leaves":5}
      {"ev":"rejected","id":4,"reason":"invalid_qty"}
      {"ev":"rejected","id":1,"reason":"unknown_order"}
      {"ev":"rejected","id":2,"reason":"unknown_order"}
      {"ev":"rejected","id":3,"reason":"unknown_order"}
      {"ev":"rejected","id":4,"reason":"unknown_order"}
      `,
    ));

  // --- replace ------------------------------------------------------------------------------------

  test("replace at the same price with qty at most the leaves keeps time priority", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":10}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":10}
      {"op":"replace","id":1,"price":100,"qty":5}
      {"op":"new","id":3,"account":"C","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":6}
      {"op":"new","id":4,"account":"D","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":1}
      {"op":"replace","id":2,"price":100,"qty":9}
      {"op":"new","id":5,"account":"C","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":10}
      `,
      `
      {"ev":"accepted","id":1}
      {"ev":"accepted","id":2}
      {"ev":"replaced","id":1,"price":100,"qty":5}
      {"ev":"accepted","id":3}
      {"ev":"trade","taker":3,"maker":1,"price":100,"qty":5}
      {"ev":"trade","taker":3,"maker":2,"price":100,"qty":1}
      {"ev":"accepted","id":4}
      {"ev":"replaced","id":2,"price":100,"qty":9}
      {"ev":"accepted","id":5}
      {"ev":"trade","taker":5,"maker":2,"price":100,"qty":9}
      {"ev":"trade","taker":5,"maker":4,"price":100,"qty":1}
      `,
    ));

  test("replace to a larger qty moves the order to the back of its level", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":10}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":10}
      {"op":"replace","id":1,"price":100,"qty":15}
      {"op":"new","id":3,"account":"C","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":12}
      `,
      `
      {"ev":"accepted","id":1}
      {"ev":"accepted","id":2}
      {"ev":"replaced","id":1,"price":100,"qty":15}
      {"ev":"accepted","id":3}
      {"ev":"trade","taker":3,"maker":2,"price":100,"qty":10}
      {"ev":"trade","taker":3,"maker":1,"price":100,"qty":2}
      `,
    ));

  test("replace to another price loses time priority, even when moved back", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":10}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":10}
      {"op":"replace","id":1,"price":101,"qty":10}
      {"op":"replace","id":1,"price":100,"qty":10}
      {"op":"new","id":3,"account":"C","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":12}
      {"op":"new","id":4,"account":"D","symbol":"AAPL","side":"sell","type":"limit","price":99,"qty":5}
      {"op":"replace","id":4,"price":98,"qty":5}
      {"op":"new","id":5,"account":"C","symbol":"AAPL","side":"buy","type":"market","qty":10}
      `,
      `
      {"ev":"accepted","id":1}
      {"ev":"accepted","id":2}
      {"ev":"replaced","id":1,"price":101,"qty":10}
      {"ev":"replaced","id":1,"price":100,"qty":10}
      {"ev":"accepted","id":3}
      {"ev":"trade","taker":3,"maker":2,"price":100,"qty":10}
      {"ev":"trade","taker":3,"maker":1,"price":100,"qty":2}
      {"ev":"accepted","id":4}
      {"ev":"replaced","id":4,"price":98,"qty":5}
      {"ev":"accepted","id":5}
      {"ev":"trade","taker":5,"maker":4,"price":98,"qty":5}
      {"ev":"trade","taker":5,"maker":1,"price":100,"qty":5}
      `,
    ));

  test("replace to a crossing price matches as the taker and rests the remainder", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":99,"qty":5}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":3}
      {"op":"new","id":3,"account":"C","symbol":"AAPL","side":"sell","type":"limit","price":101,"qty":3}
      {"op":"replace","id":1,"price":100,"qty":8}
      {"op":"new","id":4,"account":"D","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":6}
      `,
      `
      {"ev":"accepted","id":1}
      {"ev":"accepted","id":2}
      {"ev":"accepted","id":3}
      {"ev":"replaced","id":1,"price":100,"qty":8}
      {"ev":"trade","taker":1,"maker":2,"price":100,"qty":3}
      {"ev":"accepted","id":4}
      {"ev":"trade","taker":4,"maker":1,"price":100,"qty":5}
      `,
    ));

  test("replace to a crossing price cancels the owner's own resting orders on the way", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":99,"qty":5}
      {"op":"new","id":2,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":5}
      {"op":"new","id":3,"account":"B","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":5}
      {"op":"replace","id":1,"price":100,"qty":5}
      {"op":"cancel","id":1}
      `,
      `
      {"ev":"accepted","id":1}
      {"ev":"accepted","id":2}
      {"ev":"accepted","id":3}
      {"ev":"replaced","id":1,"price":100,"qty":5}
      {"ev":"cancelled","id":2,"leaves":5,"reason":"self_trade"}
      {"ev":"trade","taker":1,"maker":3,"price":100,"qty":5}
      {"ev":"rejected","id":1,"reason":"unknown_order"}
      `,
    ));

  test("replace is rejected with the first failing rule and leaves the order unchanged", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":10}
      {"op":"replace","id":9,"price":100,"qty":5}
      {"op":"replace","id":9,"price":0,"qty":0}
      {"op":"replace","id":1,"price":100,"qty":0}
      {"op":"replace","id":1,"price":0,"qty":0}
      {"op":"replace","id":1,"price":100}
      {"op":"replace","id":1,"price":100,"qty":1.5}
      {"op":"replace","id":1,"price":100,"qty":-3}
      {"op":"replace","id":1,"price":0,"qty":5}
      {"op":"replace","id":1,"price":-5,"qty":5}
      {"op":"replace","id":1,"qty":5}
      {"op":"replace","id":1,"price":"100","qty":5}
      {"op":"replace","id":1,"price":100.5,"qty":5}
      {"op":"cancel","id":1}
      `,
      `
      {"ev":"accepted","id":1}
      {"ev":"rejected","id":9,"reason":"unknown_order"}
      {"ev":"rejected","id":9,"reason":"unknown_order"}
      {"ev":"rejected","id":1,"reason":"invalid_qty"}
      {"ev":"rejected","id":1,"reason":"invalid_qty"}
      {"ev":"rejected","id":1,"reason":"invalid_qty"}
      {"ev":"rejected","id":1,"reason":"invalid_qty"}
      {"ev":"rejected","id":1,"reason":"invalid_qty"}
      {"ev":"rejected","id":1,"reason":"invalid_price"}
      {"ev":"rejected","id":1,"reason":"invalid_price"}
      {"ev":"rejected","id":1,"reason":"invalid_price"}
      {"ev":"rejected","id":1,"reason":"invalid_price"}
      {"ev":"rejected","id":1,"reason":"invalid_price"}
      {"ev":"cancelled","id":1,"leaves":10}
      `,
    ));

  test("replace of an id that was filled, cancelled or expired is unknown_order", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":5}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":5}
      {"op":"new","id":3,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":5}
      {"op":"cancel","id":3}
      {"op":"new","id":4,"account":"A","symbol":"AAPL","side":"sell","type":"limit","tif":"ioc","price":100,"qty":5}
      {"op":"replace","id":1,"price":100,"qty":5}
      {"op":"replace","id":2,"price":100,"qty":5}
      {"op":"replace","id":3,"price":100,"qty":5}
      {"op":"replace","id":4,"price":100,"qty":5}
      `,
      `
      {"ev":"accepted","id":1}
      {"ev":"accepted","id":2}
      {"ev":"trade","taker":2,"maker":1,"price":100,"qty":5}
      {"ev":"accepted","id":3}
      {"ev":"cancelled","id":3,"leaves":5}
      {"ev":"accepted","id":4}
      {"ev":"expired","id":4,"leaves":5}
      {"ev":"rejected","id":1,"reason":"unknown_order"}
      {"ev":"rejected","id":2,"reason":"unknown_order"}
      {"ev":"rejected","id":3,"reason":"unknown_order"}
      {"ev":"rejected","id":4,"reason":"unknown_order"}
      `,
    ));

  test("replace of a post-only order to a crossing price is rejected would_cross and keeps the order", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":99,"qty":5}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"sell","type":"limit","price":101,"qty":5,"postOnly":true}
      {"op":"new","id":3,"account":"C","symbol":"AAPL","side":"sell","type":"limit","price":101,"qty":5}
      {"op":"replace","id":2,"price":99,"qty":5}
      {"op":"replace","id":2,"price":98,"qty":4}
      {"op":"new","id":4,"account":"D","symbol":"AAPL","side":"buy","type":"limit","price":101,"qty":6}
      {"op":"replace","id":3,"price":100,"qty":4}
      {"op":"replace","id":3,"price":99,"qty":4}
      `,
      `
      {"ev":"accepted","id":1}
      {"ev":"accepted","id":2}
      {"ev":"accepted","id":3}
      {"ev":"rejected","id":2,"reason":"would_cross"}
      {"ev":"rejected","id":2,"reason":"would_cross"}
      {"ev":"accepted","id":4}
      {"ev":"trade","taker":4,"maker":2,"price":101,"qty":5}
      {"ev":"trade","taker":4,"maker":3,"price":101,"qty":1}
      {"ev":"replaced","id":3,"price":100,"qty":4}
      {"ev":"replaced","id":3,"price":99,"qty":4}
      {"ev":"trade","taker":3,"maker":1,"price":99,"qty":4}
      `,
    ));

  test("replace of a post-only order to a price that does not cross is replaced", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":99,"qty":5}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"sell","type":"limit","price":101,"qty":5,"postOnly":true}
      {"op":"replace","id":2,"price":100,"qty":7}
      {"op":"new","id":3,"account":"C","symbol":"AAPL","side":"buy","type":"market","qty":7}
      `,
      `
      {"ev":"accepted","id":1}
      {"ev":"accepted","id":2}
      {"ev":"replaced","id":2,"price":100,"qty":7}
      {"ev":"accepted","id":3}
      {"ev":"trade","taker":3,"maker":2,"price":100,"qty":7}
      `,
    ));

  // --- validation of new --------------------------------------------------------------------------

  test("new with a missing, non-string or unconfigured symbol is rejected unknown_symbol", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","side":"buy","type":"limit","price":100,"qty":5}
      {"op":"new","id":2,"account":"A","symbol":5,"side":"buy","type":"limit","price":100,"qty":5}
      {"op":"new","id":3,"account":"A","symbol":"NOPE","side":"buy","type":"limit","price":100,"qty":5}
      {"op":"new","id":4,"account":"A","symbol":"aapl","side":"buy","type":"limit","price":100,"qty":5}
      {"op":"new","id":5,"account":"A","symbol":null,"side":"buy","type":"market","qty":5}
      `,
      `
      {"ev":"rejected","id":1,"reason":"unknown_symbol"}
      {"ev":"rejected","id":2,"reason":"unknown_symbol"}
      {"ev":"rejected","id":3,"reason":"unknown_symbol"}
      {"ev":"rejected","id":4,"reason":"unknown_symbol"}
      {"ev":"rejected","id":5,"reason":"unknown_symbol"}
      `,
    ));

  test("new with a qty that is not a positive safe integer is rejected invalid_qty", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":0}
      {"op":"new","id":2,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":-1}
      {"op":"new","id":3,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":1.5}
      {"op":"new","id":4,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":"10"}
      {"op":"new","id":5,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":100}
      {"op":"new","id":6,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":null}
      {"op":"new","id":7,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":9007199254740992}
      {"op":"new","id":8,"account":"A","symbol":"AAPL","side":"buy","type":"market","qty":0}
      `,
      `
      {"ev":"rejected","id":1,"reason":"invalid_qty"}
      {"ev":"rejected","id":2,"reason":"invalid_qty"}
      {"ev":"rejected","id":3,"reason":"invalid_qty"}
      {"ev":"rejected","id":4,"reason":"invalid_qty"}
      {"ev":"rejected","id":5,"reason":"invalid_qty"}
      {"ev":"rejected","id":6,"reason":"invalid_qty"}
      {"ev":"rejected","id":7,"reason":"invalid_qty"}
      {"ev":"rejected","id":8,"reason":"invalid_qty"}
      `,
    ));

  test("new limit order without a positive safe integer price is rejected invalid_price", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"buy","type":"limit","qty":5}
      {"op":"new","id":2,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":null,"qty":5}
      {"op":"new","id":3,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":0,"qty":5}
      {"op":"new","id":4,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":-5,"qty":5}
      {"op":"new","id":5,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":1.5,"qty":5}
      {"op":"new","id":6,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":"100","qty":5}
      {"op":"new","id":7,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":9007199254740992,"qty":5}
      `,
      `
      {"ev":"rejected","id":1,"reason":"invalid_price"}
      {"ev":"rejected","id":2,"reason":"invalid_price"}
      {"ev":"rejected","id":3,"reason":"invalid_price"}
      {"ev":"rejected","id":4,"reason":"invalid_price"}
      {"ev":"rejected","id":5,"reason":"invalid_price"}
      {"ev":"rejected","id":6,"reason":"invalid_price"}
      {"ev":"rejected","id":7,"reason":"invalid_price"}
      `,
    ));

  test("prices off the instrument's tick size are rejected invalid_price (ES-FUT ticks by 25)", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"ES-FUT","side":"buy","type":"limit","price":560010,"qty":1}
      {"op":"new","id":2,"account":"A","symbol":"ES-FUT","side":"buy","type":"limit","price":560025,"qty":1}
      {"op":"replace","id":2,"price":560030,"qty":1}
      {"op":"replace","id":2,"price":560050,"qty":1}
      {"op":"new","id":3,"account":"B","symbol":"ES-FUT","side":"sell","type":"limit","price":560050,"qty":1}
      {"op":"new","id":4,"account":"B","symbol":"AAPL","side":"sell","type":"limit","price":560010,"qty":1}
      `,
      `
      {"ev":"rejected","id":1,"reason":"invalid_price"}
      {"ev":"accepted","id":2}
      {"ev":"rejected","id":2,"reason":"invalid_price"}
      {"ev":"replaced","id":2,"price":560050,"qty":1}
      {"ev":"accepted","id":3}
      {"ev":"trade","taker":3,"maker":2,"price":560050,"qty":1}
      {"ev":"accepted","id":4}
      `,
    ));

  test("new with an id used by any earlier new is rejected duplicate_id, whatever became of it", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":5}
      {"op":"new","id":1,"account":"B","symbol":"AAPL","side":"sell","type":"limit","price":200,"qty":5}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":5}
      {"op":"new","id":1,"account":"B","symbol":"AAPL","side":"sell","type":"limit","price":200,"qty":5}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"sell","type":"limit","price":200,"qty":5}
      {"op":"new","id":3,"account":"A","symbol":"MSFT","side":"buy","type":"limit","price":100,"qty":5}
      {"op":"cancel","id":3}
      {"op":"new","id":3,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":5}
      {"op":"new","id":4,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":0}
      {"op":"new","id":4,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":5}
      {"op":"new","id":5,"account":"A","symbol":"NOPE","side":"buy","type":"limit","price":100,"qty":5}
      {"op":"new","id":5,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":5}
      {"op":"new","id":6,"account":"A","symbol":"AAPL","side":"buy","type":"market","qty":5}
      {"op":"new","id":6,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":5}
      {"op":"cancel","id":7}
      {"op":"replace","id":8,"price":100,"qty":5}
      {"op":"new","id":7,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":90,"qty":5}
      {"op":"new","id":8,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":90,"qty":5}
      `,
      `
      {"ev":"accepted","id":1}
      {"ev":"rejected","id":1,"reason":"duplicate_id"}
      {"ev":"accepted","id":2}
      {"ev":"trade","taker":2,"maker":1,"price":100,"qty":5}
      {"ev":"rejected","id":1,"reason":"duplicate_id"}
      {"ev":"rejected","id":2,"reason":"duplicate_id"}
      {"ev":"accepted","id":3}
      {"ev":"cancelled","id":3,"leaves":5}
      {"ev":"rejected","id":3,"reason":"duplicate_id"}
      {"ev":"rejected","id":4,"reason":"invalid_qty"}
      {"ev":"rejected","id":4,"reason":"duplicate_id"}
      {"ev":"rejected","id":5,"reason":"unknown_symbol"}
      {"ev":"rejected","id":5,"reason":"duplicate_id"}
      {"ev":"accepted","id":6}
      {"ev":"expired","id":6,"leaves":5}
      {"ev":"rejected","id":6,"reason":"duplicate_id"}
      {"ev":"rejected","id":7,"reason":"unknown_order"}
      {"ev":"rejected","id":8,"reason":"unknown_order"}
      {"ev":"accepted","id":7}
      {"ev":"accepted","id":8}
      `,
    ));

  test("new is rejected with the first reason in order: symbol, qty, price, id, order, cross", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":5}
      {"op":"new","id":1,"account":"A","symbol":"NOPE","side":"buy","type":"limit","price":0,"qty":0,"tif":"ioc","postOnly":true}
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":0,"qty":0,"tif":"ioc","postOnly":true}
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":0,"qty":5,"tif":"ioc","postOnly":true}
      {"op":"new","id":1,"account":"A","symbol":"ES-FUT","side":"buy","type":"limit","price":560001,"qty":5}
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":5,"tif":"ioc","postOnly":true}
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"buy","type":"market","price":100,"qty":5}
      {"op":"new","id":2,"account":"A","symbol":"AAPL","side":"buy","type":"market","price":100,"qty":0}
      {"op":"new","id":3,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":5,"tif":"ioc","postOnly":true}
      {"op":"new","id":4,"account":"A","symbol":"AAPL","side":"buy","type":"market","price":100,"qty":5,"postOnly":true}
      {"op":"new","id":5,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":5,"postOnly":true}
      `,
      `
      {"ev":"accepted","id":1}
      {"ev":"rejected","id":1,"reason":"unknown_symbol"}
      {"ev":"rejected","id":1,"reason":"invalid_qty"}
      {"ev":"rejected","id":1,"reason":"invalid_price"}
      {"ev":"rejected","id":1,"reason":"invalid_price"}
      {"ev":"rejected","id":1,"reason":"duplicate_id"}
      {"ev":"rejected","id":1,"reason":"duplicate_id"}
      {"ev":"rejected","id":2,"reason":"invalid_qty"}
      {"ev":"rejected","id":3,"reason":"invalid_order"}
      {"ev":"rejected","id":4,"reason":"invalid_order"}
      {"ev":"rejected","id":5,"reason":"would_cross"}
      `,
    ));

  // --- instruments --------------------------------------------------------------------------------

  test("books of different symbols never interact", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":5}
      {"op":"new","id":2,"account":"B","symbol":"MSFT","side":"buy","type":"limit","price":100,"qty":5}
      {"op":"new","id":3,"account":"C","symbol":"MSFT","side":"buy","type":"limit","tif":"fok","price":100,"qty":5}
      {"op":"new","id":4,"account":"C","symbol":"MSFT","side":"sell","type":"market","qty":6}
      {"op":"new","id":5,"account":"A","symbol":"MSFT","side":"buy","type":"limit","price":100,"qty":5,"postOnly":true}
      {"op":"new","id":6,"account":"B","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":5}
      `,
      `
      {"ev":"accepted","id":1}
      {"ev":"accepted","id":2}
      {"ev":"accepted","id":3}
      {"ev":"expired","id":3,"leaves":5}
      {"ev":"accepted","id":4}
      {"ev":"trade","taker":4,"maker":2,"price":100,"qty":5}
      {"ev":"expired","id":4,"leaves":1}
      {"ev":"accepted","id":5}
      {"ev":"accepted","id":6}
      {"ev":"trade","taker":6,"maker":1,"price":100,"qty":5}
      `,
    ));

  test("events carry their instrument, UNKNOWN_INSTRUMENT for unknown symbols and orders", () =>
    withMatcher((matcher) => {
      // Each order its own account, so nothing is prevented as a self-trade.
      const limit = (
        id: number,
        instrument: number,
        side: Side,
        qty: number,
        tif: TimeInForce = TimeInForce.Gtc,
      ): Command => ({
        kind: CommandKind.PlaceOrder,
        id,
        account: id,
        instrument,
        side,
        type: OrderType.Limit,
        tif,
        postOnly: false,
        price: 100,
        qty,
      });
      const commands: Command[] = [
        limit(1, 1, Side.Sell, 5),
        limit(2, 1, Side.Buy, 2),
        limit(3, 99, Side.Buy, 2),
        limit(4, UNKNOWN_INSTRUMENT, Side.Buy, 2),
        limit(5, 2, Side.Buy, 0),
        limit(6, 2, Side.Buy, 1, TimeInForce.Ioc),
        { kind: CommandKind.ReplaceOrder, id: 1, price: 0, qty: 3 },
        { kind: CommandKind.ReplaceOrder, id: 1, price: 101, qty: 3 },
        { kind: CommandKind.ReplaceOrder, id: 9, price: 101, qty: 3 },
        { kind: CommandKind.CancelOrder, id: 1 },
        { kind: CommandKind.CancelOrder, id: 1 },
      ];
      const rejected = (id: number, instrument: number, reason: string) => ({
        kind: EventKind.OrderRejected,
        id,
        instrument,
        reason,
      });
      const trade = { kind: EventKind.OrderTraded, instrument: 1, taker: 2, maker: 1 };
      assert.deepStrictEqual(commands.map((command) => matcher.apply(command)), [
        [{ kind: EventKind.OrderAccepted, id: 1, instrument: 1 }],
        [{ kind: EventKind.OrderAccepted, id: 2, instrument: 1 }, { ...trade, price: 100, qty: 2 }],
        [rejected(3, UNKNOWN_INSTRUMENT, "unknown_symbol")],
        [rejected(4, UNKNOWN_INSTRUMENT, "unknown_symbol")],
        [rejected(5, 2, "invalid_qty")],
        [{ kind: EventKind.OrderAccepted, id: 6, instrument: 2 }, {
          kind: EventKind.OrderExpired,
          id: 6,
          instrument: 2,
          leaves: 1,
        }],
        [rejected(1, 1, "invalid_price")],
        [{ kind: EventKind.OrderReplaced, id: 1, instrument: 1, price: 101, qty: 3 }],
        [rejected(9, UNKNOWN_INSTRUMENT, "unknown_order")],
        [{ kind: EventKind.OrderCancelled, id: 1, instrument: 1, leaves: 3, reason: "requested" }],
        [rejected(1, UNKNOWN_INSTRUMENT, "unknown_order")],
      ]);
    }));

  // --- the replay protocol ------------------------------------------------------------------------

  const tooLongAccount = "é".repeat(24) + "A"; // 49 bytes of UTF-8 in 25 characters
  test("lines that are not commands become error events with their line number and touch nothing", () =>
    check(
      `
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":5}
      {oops

      [1,2]
      42
      null
      {"op":"delete","id":1}
      {"id":1}
      {"op":"cancel","id":-1}
      {"op":"cancel","id":1.5}
      {"op":"cancel","id":"1"}
      {"op":"cancel"}
      {"op":"cancel","id":9007199254740992}
      {"op":"new","id":2,"symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":5}
      {"op":"new","id":2,"account":"","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":5}
      {"op":"new","id":2,"account":"${tooLongAccount}","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":5}
      {"op":"new","id":2,"account":7,"symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":5}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"BUY","type":"limit","price":100,"qty":5}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"buy","type":"stop","price":100,"qty":5}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"buy","type":"limit","tif":"day","price":100,"qty":5}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"buy","type":"limit","tif":null,"price":100,"qty":5}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":5,"postOnly":"true"}
      {"op":"cancel","id":1}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":5}
      `,
      `
      {"ev":"accepted","id":1}
      {"ev":"error","line":2,"message":"Cannot read line 2: it is not valid JSON"}
      {"ev":"error","line":4,"message":"Cannot read line 4: it is not a JSON object"}
      {"ev":"error","line":5,"message":"Cannot read line 5: it is not a JSON object"}
      {"ev":"error","line":6,"message":"Cannot read line 6: it is not a JSON object"}
      {"ev":"error","line":7,"message":"Cannot read line 7: field \\"op\\" must be \\"new\\", \\"cancel\\" or \\"replace\\""}
      {"ev":"error","line":8,"message":"Cannot read line 8: field \\"op\\" must be \\"new\\", \\"cancel\\" or \\"replace\\""}
      {"ev":"error","line":9,"message":"Cannot read line 9: field \\"id\\" must be a non-negative safe integer"}
      {"ev":"error","line":10,"message":"Cannot read line 10: field \\"id\\" must be a non-negative safe integer"}
      {"ev":"error","line":11,"message":"Cannot read line 11: field \\"id\\" must be a non-negative safe integer"}
      {"ev":"error","line":12,"message":"Cannot read line 12: field \\"id\\" must be a non-negative safe integer"}
      {"ev":"error","line":13,"message":"Cannot read line 13: field \\"id\\" must be a non-negative safe integer"}
      {"ev":"error","line":14,"message":"Cannot read line 14: field \\"account\\" must be a string of 1 to 48 bytes of UTF-8"}
      {"ev":"error","line":15,"message":"Cannot read line 15: field \\"account\\" must be a string of 1 to 48 bytes of UTF-8"}
      {"ev":"error","line":16,"message":"Cannot read line 16: field \\"account\\" must be a string of 1 to 48 bytes of UTF-8, not 49 bytes"}
      {"ev":"error","line":17,"message":"Cannot read line 17: field \\"account\\" must be a string of 1 to 48 bytes of UTF-8"}
      {"ev":"error","line":18,"message":"Cannot read line 18: field \\"side\\" must be \\"buy\\" or \\"sell\\""}
      {"ev":"error","line":19,"message":"Cannot read line 19: field \\"type\\" must be \\"limit\\" or \\"market\\""}
      {"ev":"error","line":20,"message":"Cannot read line 20: field \\"tif\\" must be \\"gtc\\", \\"ioc\\" or \\"fok\\" when present"}
      {"ev":"error","line":21,"message":"Cannot read line 21: field \\"tif\\" must be \\"gtc\\", \\"ioc\\" or \\"fok\\" when present"}
      {"ev":"error","line":22,"message":"Cannot read line 22: field \\"postOnly\\" must be true or false when present"}
      {"ev":"cancelled","id":1,"leaves":5}
      {"ev":"accepted","id":2}
      `,
    ));

  // --- state hash ---------------------------------------------------------------------------------

  test("stateHash() walks every book as STATE_HASH.md defines", () =>
    withMatcher(async (matcher) => {
      await replay(
        textLines(`
        {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":5}
        {"op":"new","id":2,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":99,"qty":4}
        {"op":"new","id":3,"account":"B","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":7}
        {"op":"new","id":4,"account":"B","symbol":"AAPL","side":"sell","type":"limit","price":102,"qty":3}
        {"op":"new","id":5,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":101,"qty":1}
        {"op":"new","id":6,"account":"A","symbol":"ES-FUT","side":"sell","type":"limit","price":560025,"qty":2}
        `),
        matcher,
        new CommandParser(instruments),
        () => {},
      );
      // [price, [id, account, leaves]...] per level, best first.
      type Level = [number, ...[number, number, number][]];
      const books = new Map<number, { bids: Level[]; asks: Level[] }>([
        [0, {
          bids: [[100, [1, 0, 5], [3, 1, 7]], [99, [2, 0, 4]]],
          asks: [[101, [5, 0, 1]], [102, [4, 1, 3]]],
        }],
        [9, { bids: [], asks: [[560025, [6, 0, 2]]] }],
      ]);
      const h = new StateHasher();
      instruments.forEach((_, i) => {
        h.word(i);
        const book = books.get(i) ?? { bids: [], asks: [] };
        for (const side of [book.bids, book.asks]) {
          h.word(side.length);
          for (const [price, ...orders] of side) {
            h.word(price);
            h.word(orders.length);
            for (const order of orders) order.forEach((x) => h.word(x));
          }
        }
      });
      assert.deepStrictEqual(matcher.stateHash(), h.digest());
    }));

  test("stateHash() is equal for streams that reach the same books and differs otherwise", async () => {
    const hashOf = (input: string) =>
      withMatcher(async (matcher) => {
        await replay(textLines(input), matcher, new CommandParser(instruments), () => {});
        return matcher.stateHash();
      });
    const simple = await hashOf(`
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":10}
    `);
    const roundabout = await hashOf(`
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":20}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":5}
      {"op":"replace","id":1,"price":100,"qty":10}
      {"op":"new","id":3,"account":"B","symbol":"MSFT","side":"buy","type":"limit","price":100,"qty":5}
      {"op":"cancel","id":3}
    `);
    const otherQty = await hashOf(`
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":9}
    `);
    const otherId = await hashOf(`
      {"op":"new","id":2,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":10}
    `);
    const otherSymbol = await hashOf(`
      {"op":"new","id":1,"account":"A","symbol":"MSFT","side":"sell","type":"limit","price":100,"qty":10}
    `);
    const otherSide = await hashOf(`
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":10}
    `);
    const empty = await hashOf("");
    const emptied = await hashOf(`
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":10}
      {"op":"cancel","id":1}
    `);
    assert.deepStrictEqual(roundabout, simple);
    assert.deepStrictEqual(emptied, empty);
    const all = [simple, otherQty, otherId, otherSymbol, otherSide, empty];
    assert.deepStrictEqual(new Set(all).size, all.length, "hashes of different books must differ");

    const oneThenTwo = await hashOf(`
      {"op":"new","id":9,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":1,"qty":1}
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":5}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":5}
      {"op":"cancel","id":9}
    `);
    const twoThenOne = await hashOf(`
      {"op":"new","id":9,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":1,"qty":1}
      {"op":"new","id":2,"account":"B","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":5}
      {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":5}
      {"op":"cancel","id":9}
    `);
    assert(oneThenTwo !== twoThenOne, "time priority must change the hash");
  });

  // --- batching -----------------------------------------------------------------------------------

  test("applyAll() returns what apply() returns one command at a time", () =>
    withMatcher((single) =>
      withMatcher((batched) => {
        const commands = randomCommandStream(1, 5000, instruments);
        const expected = commands.map((command) => single.apply(command));
        const actual: EngineEvent[][] = [];
        for (let i = 0, size = 1; i < commands.length; i += size, size = size * 2 % 997 + 1) {
          actual.push(...batched.applyAll(commands.slice(i, i + size)));
        }
        assert.deepStrictEqual(actual, expected);
        assert.deepStrictEqual(batched.stateHash(), single.stateHash());
      })
    ));
}

/**
 * A seeded, reproducible stream of commands for property tests that compare
 * matchers (the native engine against the reference). It uses a few symbols
 * (including the one with the largest tick size), a handful of accounts,
 * every command kind and order type, and some invalid commands of every
 * kind. Prices cluster within a few ticks of each instrument's reference
 * price (buys leaning below it, sells above) so books cross often yet keep
 * some depth, and cancels and replaces mostly target recent GTC limit
 * orders, the ones likely to be resting. A stream is a prefix of any longer
 * stream with the same seed, so a failing count shrinks to a short prefix.
 *
 * @param seed Any number; the same seed gives the same stream.
 * @param count How many commands.
 * @param instruments The instrument table the commands refer to.
 * @returns The commands.
 * @throws {RangeError} If `count` is not a non-negative integer or `instruments` is empty.
 *
 * @example
 * ```ts
 * import { randomCommandStream } from "./matcher_suite.ts";
 * import { loadInstruments, ReferenceMatcher } from "./mod.ts";
 * import assert from "node:assert";
 *
 * const instruments = loadInstruments();
 * const commands = randomCommandStream(42, 1000, instruments);
 * assert.deepStrictEqual(commands, randomCommandStream(42, 1000, instruments));
 * const [a, b] = [new ReferenceMatcher(instruments), new ReferenceMatcher(instruments)];
 * assert.deepStrictEqual(a.applyAll(commands), commands.map((command) => b.apply(command)));
 * assert.deepStrictEqual(a.stateHash(), b.stateHash());
 * ```
 */
export function randomCommandStream(
  seed: number,
  count: number,
  instruments: readonly Instrument[],
): Command[] {
  if (!Number.isSafeInteger(count) || count < 0 || instruments.length === 0) {
    throw new RangeError(
      "Cannot generate commands: count must be a non-negative integer and instruments non-empty",
    );
  }
  const random = mulberry32(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const chance = (p: number) => random() < p;
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)]!;

  const widest = instruments.reduce(
    (w, x, i) => (x.tickSize > instruments[w]!.tickSize ? i : w),
    0,
  );
  const symbols = [...new Set([0, 1, widest].filter((i) => i < instruments.length))];
  const placed: number[] = [];
  /** GTC limit orders on known symbols: the ones that may be resting. */
  const restable: number[] = [];
  const orders = new Map<number, { instrument: number; side: Side }>();
  let nextId = 1;
  const recentId = () => restable[Math.max(0, restable.length - 1 - int(0, 20))] ?? nextId;
  // Buys lean below the reference price and sells above, overlapping by two
  // ticks: books both cross often and keep some depth to cancel and replace.
  const priceNear = (instrument: number, side: Side) => {
    const { tickSize, referencePrice } = instruments[instrument]!;
    if (chance(0.02)) return pick([INVALID_PRICE, 0, tickSize > 1 ? referencePrice + 1 : -7]);
    const offset = side === Side.Buy ? int(-6, 2) : int(-2, 6);
    return referencePrice + tickSize * offset;
  };
  const qty = () => (chance(0.02) ? pick([0, -1]) : int(1, 20));

  const commands: Command[] = [];
  while (commands.length < count) {
    const roll = random();
    if (roll < 0.6 || placed.length === 0) {
      const id = chance(0.02) && placed.length > 0 ? pick(placed) : nextId++;
      const instrument = chance(0.02) ? UNKNOWN_INSTRUMENT : pick(symbols);
      const side = chance(0.5) ? Side.Buy : Side.Sell;
      const type = chance(0.15) ? OrderType.Market : OrderType.Limit;
      const known = instrument !== UNKNOWN_INSTRUMENT;
      const limitPrice = known ? priceNear(instrument, side) : 100;
      const price = type === OrderType.Limit ? limitPrice : chance(0.03) ? limitPrice : NO_PRICE;
      const tif = pick([
        TimeInForce.Gtc,
        TimeInForce.Gtc,
        TimeInForce.Gtc,
        TimeInForce.Ioc,
        TimeInForce.Fok,
      ]);
      const account = int(0, 4);
      const postOnly = chance(0.1);
      commands.push({
        kind: CommandKind.PlaceOrder,
        id,
        account,
        instrument,
        side,
        type,
        tif,
        postOnly,
        price,
        qty: qty(),
      });
      placed.push(id);
      if (known && !orders.has(id)) {
        orders.set(id, { instrument, side });
        if (type === OrderType.Limit && tif === TimeInForce.Gtc) restable.push(id);
      }
    } else if (roll < 0.8) {
      commands.push({
        kind: CommandKind.CancelOrder,
        id: chance(0.9) ? recentId() : nextId + 1000,
      });
    } else {
      const id = chance(0.9) ? recentId() : nextId + 1000;
      const order = orders.get(id) ?? { instrument: pick(symbols), side: Side.Buy };
      commands.push({
        kind: CommandKind.ReplaceOrder,
        id,
        price: priceNear(order.instrument, order.side),
        qty: qty(),
      });
    }
  }
  return commands;
}

/** Splits a test's text into lines, dropping the empty first and last lines a template literal brings. */
function textLines(text: string): string[] {
  const lines = text.split("\n").map((line) => line.trim());
  if (lines[0] === "") lines.shift();
  if (lines.at(-1) === "") lines.pop();
  return lines;
}
