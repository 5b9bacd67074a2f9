import { AccountRegistry } from "./accounts.ts";
import type { Control, ControlResult } from "./dispatcher.ts";
import assert from "node:assert";

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
  assert.deepStrictEqual(accounts.ensure("BOB"), 4);
  assert.deepStrictEqual(accounts.ensure("ALICE"), 5);
  assert.deepStrictEqual(accounts.ensure("CAROL"), 6);
  assert.deepStrictEqual(accounts.ensure("ALICE"), 5);
  assert.deepStrictEqual(controls, [
    { defineAccount: 5, name: "ALICE" },
    { defineAccount: 6, name: "CAROL" },
  ]);
  assert.deepStrictEqual([accounts.name(6), accounts.number("MM1"), accounts.size], [
    "CAROL",
    0,
    4,
  ]);
});

Deno.test("AccountRegistry.define fixes a number, and refuses to rename one", async () => {
  const { controls, dispatcher } = fake();
  const accounts = new AccountRegistry({ dispatcher, known: [[1, "MM2"]] });
  assert.deepStrictEqual(await accounts.define(1, "MM2"), { ok: true });
  assert.deepStrictEqual(controls, []);
  assert.deepStrictEqual(await accounts.define(0, "MM1"), { ok: true });
  assert.throws(() => accounts.define(0, "EVE"), {
    name: "RangeError",
    message: /account 0 "EVE": it is already "MM1"/,
  });
  assert.throws(() => accounts.define(3, "MM1"), {
    name: "RangeError",
    message: /that name is already account 0/,
  });
  assert.throws(() => accounts.define(-1, "X"), {
    name: "RangeError",
    message: /not an account number/,
  });
  assert.deepStrictEqual(accounts.ensure("ALICE"), 2);
});

Deno.test("AccountRegistry refuses a journal that gives one number two names", () => {
  const { dispatcher } = fake();
  assert.throws(() => new AccountRegistry({ dispatcher, known: [[0, "A"], [0, "B"]] }), {
    name: "RangeError",
    message: /already "A"/,
  });
});

Deno.test("AccountRegistry reports an engine's refusal of a definition", async () => {
  const { dispatcher } = fake({ ok: false, reason: "halted" });
  const errors: string[] = [];
  const accounts = new AccountRegistry({ dispatcher, onError: (e) => errors.push(e.message) });
  assert.deepStrictEqual(accounts.ensure("ALICE"), 0);
  await Promise.resolve();
  await Promise.resolve();
  assert.deepStrictEqual(errors, ['Cannot name account 0 "ALICE": the engine refused (halted)']);
});
