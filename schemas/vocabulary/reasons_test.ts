import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import * as gen from "../gen/gateway.ts";
import { rustConstants } from "./_rust.ts";
import {
  CANCEL_REASONS,
  cancelReasonText,
  ENGINE_CANCEL_CODES,
  ENGINE_REJECT_CODES,
  engineCancelReasonOf,
  engineRejectReasonOf,
  REJECT_REASONS,
  rejectReasonText,
  WIRE_CANCEL_CODES,
  WIRE_REJECT_CODES,
  wireCancelReason,
  wireRejectReason,
} from "./reasons.ts";

/** `unknownSymbol` → `UNKNOWN_SYMBOL`, as capnp-es names enumerants. */
const generatedName = (wire: string) => wire.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

function unique(values: readonly unknown[], what: string): void {
  strictEqual(new Set(values).size, values.length, `a ${what} is used twice`);
}

Deno.test("reject reasons: every engine code maps to one wire enumerant and one text, and back", () => {
  for (const row of REJECT_REASONS) {
    if (row.engine === undefined) continue;
    strictEqual(ENGINE_REJECT_CODES[row.engine], row.code, row.engine);
    strictEqual(engineRejectReasonOf(row.code), row.engine);
    const wire = wireRejectReason(row.engine);
    strictEqual(WIRE_REJECT_CODES[wire], row.code, wire);
    strictEqual(rejectReasonText(row.engine), rejectReasonText(wire));
    ok(rejectReasonText(wire).length > 0, `${wire} has no text`);
  }
  deepStrictEqual(
    Object.keys(ENGINE_REJECT_CODES),
    REJECT_REASONS.flatMap((r) => r.engine === undefined ? [] : [r.engine]),
  );
});

Deno.test("reject reasons: every enumerant of the schema's RejectReason is in the table, with its number", () => {
  deepStrictEqual(
    Object.fromEntries(REJECT_REASONS.map((r) => [generatedName(r.wire), r.code])),
    { ...gen.RejectReason },
  );
  deepStrictEqual(
    Object.entries(WIRE_REJECT_CODES),
    REJECT_REASONS.map((r) => [r.wire, r.code]),
  );
});

Deno.test("reject reasons: codes, names and texts are never used twice; row i is code i", () => {
  REJECT_REASONS.forEach((row, i) => strictEqual(row.code, i, row.wire));
  unique(REJECT_REASONS.map((r) => r.code), "code");
  unique(REJECT_REASONS.flatMap((r) => r.engine ?? []), "engine name");
  unique(REJECT_REASONS.map((r) => r.wire), "wire name");
  unique(REJECT_REASONS.map((r) => r.text), "text");
  strictEqual(engineRejectReasonOf(REJECT_REASONS.length), undefined);
  strictEqual(engineRejectReasonOf(0), undefined);
});

Deno.test("reject reasons: the engine's codes are native/src/record.rs's, name for name", () => {
  const native = rustConstants("record.rs", "reject");
  deepStrictEqual(
    Object.fromEntries([...native].map(([name, code]) => [name.toLowerCase(), code])),
    { ...ENGINE_REJECT_CODES },
  );
});

Deno.test("cancel reasons: every engine code maps to one wire enumerant and one text, and back", () => {
  for (const row of CANCEL_REASONS) {
    strictEqual(ENGINE_CANCEL_CODES[row.engine], row.code);
    strictEqual(engineCancelReasonOf(row.code), row.engine);
    const wire = wireCancelReason(row.engine);
    strictEqual(WIRE_CANCEL_CODES[wire], row.code);
    strictEqual(cancelReasonText(row.engine), cancelReasonText(wire));
    ok(cancelReasonText(wire).length > 0);
  }
  strictEqual(engineCancelReasonOf(CANCEL_REASONS.length), undefined);
});

Deno.test("cancel reasons: the schema's CancelReason and native/src/record.rs's, number for number", () => {
  CANCEL_REASONS.forEach((row, i) => strictEqual(row.code, i, row.wire));
  unique(CANCEL_REASONS.map((r) => r.text), "text");
  deepStrictEqual(
    Object.fromEntries(CANCEL_REASONS.map((r) => [generatedName(r.wire), r.code])),
    { ...gen.CancelReason },
  );
  const native = rustConstants("record.rs", "cancel");
  deepStrictEqual(
    Object.fromEntries([...native].map(([name, code]) => [name.toLowerCase(), code])),
    { ...ENGINE_CANCEL_CODES },
  );
});
