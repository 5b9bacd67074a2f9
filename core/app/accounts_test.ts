import { AccountRegistry } from "./accounts.ts";
import type { Control, ControlResult } from "./dispatcher.ts";
import { assertEquals, assertThrows } from "../_testing/assert.ts";

/** A dispatcher stand-in that records controls and answers each with `answer`. */
function fake(answer: ControlResult = { ok: true }) {
  const controls: Control[] = [];
  return {
    controls,
    dispatcher: {
      submitControl: (control: Control) => {
        controls.push(control);
        return Promise.resolve(answer);
      },
    },
  };
}

Deno.test("AccountRegistry numbers new names above every known number, once each", () => {
  const { controls, dispatcher } = fake();
  const accounts = new AccountRegistry({ dispatcher, known: [[0, "MM1"], [4, "BOB"]] });
  assertEquals(accounts.ensure("BOB"), 4);
  assertEquals(accounts.ensure("ALICE"), 5);
  assertEquals(accounts.ensure("CAROL"), 6);
  assertEquals(accounts.ensure("ALICE"), 5);
  assertEquals(controls, [
    { defineAccount: 5, name: "ALICE" },
    { defineAccount: 6, name: "CAROL" },
  ]);
  assertEquals([accounts.name(6), accounts.number("MM1"), accounts.size], ["CAROL", 0, 4]);
});

Deno.test("AccountRegistry.define fixes a number, and refuses to rename one", async () => {
  const { controls, dispatcher } = fake();
  const accounts = new AccountRegistry({ dispatcher, known: [[1, "MM2"]] });
  assertEquals(await accounts.define(1, "MM2"), { ok: true });
  assertEquals(controls, []);
  assertEquals(await accounts.define(0, "MM1"), { ok: true });
  assertThrows(() => accounts.define(0, "EVE"), RangeError, 'account 0 "EVE": it is already "MM1"');
  assertThrows(() => accounts.define(3, "MM1"), RangeError, "that name is already account 0");
  assertThrows(() => accounts.define(-1, "X"), RangeError, "not an account number");
  assertEquals(accounts.ensure("ALICE"), 2);
});

Deno.test("AccountRegistry refuses a journal that gives one number two names", () => {
  const { dispatcher } = fake();
  assertThrows(
    () => new AccountRegistry({ dispatcher, known: [[0, "A"], [0, "B"]] }),
    RangeError,
    'already "A"',
  );
});

Deno.test("AccountRegistry reports an engine's refusal of a definition", async () => {
  const { dispatcher } = fake({ ok: false, reason: "halted" });
  const errors: string[] = [];
  const accounts = new AccountRegistry({ dispatcher, onError: (e) => errors.push(e.message) });
  assertEquals(accounts.ensure("ALICE"), 0);
  await Promise.resolve();
  await Promise.resolve();
  assertEquals(errors, ['Cannot name account 0 "ALICE": the engine refused (halted)']);
});
