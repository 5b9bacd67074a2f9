import assert from "node:assert";
import * as gen from "../../schemas/gen/gateway.ts";
import { RejectReason as EngineRejectReason } from "../matching/types.ts";
import { REPOSITORY_ROOT, SCHEMAS, writeBindings } from "./schemas.ts";
import {
  CancelReasonCode,
  ExecTypeCode,
  LiquidityCode,
  OrderTypeCode,
  ReasonCode,
  RequestTypeCode,
  ResyncReasonCode,
  SideCode,
  TimeInForceCode,
} from "./types.ts";

Deno.test("the committed schema bindings are what `deno task schemas` generates", async () => {
  // Needs the reference `capnp` tool; without it this fails (CI installs it).
  const dir = await Deno.makeTempDir({ prefix: "schemas_test_" });
  try {
    await writeBindings(new URL(`file://${dir}/`));
    for (const { schema, bindings } of SCHEMAS) {
      const fresh = await Deno.readTextFile(`${dir}/${bindings}`);
      const committed = await Deno.readTextFile(new URL(bindings, REPOSITORY_ROOT)).catch(() => "");
      if (fresh !== committed) {
        throw new Error(
          `${bindings} is stale: it does not match ${schema}. Run \`deno task schemas\` and ` +
            "commit the result.",
        );
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** `unknownSymbol` → `UNKNOWN_SYMBOL`, as capnp-es names enumerants. */
function generatedName(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
}

/** The enumeration `table` (names to numbers), as the generated bindings have it. */
function asGenerated(table: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(table).map(([k, v]) => [generatedName(k), v]));
}

/** The generated enumeration without its "not given" 0, for tables that leave it out. */
function without(table: Record<string, number>, name: string): Record<string, number> {
  return Object.fromEntries(Object.entries(table).filter(([k]) => k !== name));
}

Deno.test("the wire's enumeration tables are the schema's, name for name and number for number", () => {
  assert.deepStrictEqual(asGenerated(ReasonCode), { ...gen.RejectReason });
  assert.deepStrictEqual(asGenerated(RequestTypeCode), { ...gen.RequestType });
  assert.deepStrictEqual(asGenerated(ExecTypeCode), { ...gen.ExecType });
  assert.deepStrictEqual(asGenerated(CancelReasonCode), { ...gen.CancelReason });
  assert.deepStrictEqual(asGenerated(LiquidityCode), { ...gen.Liquidity });
  assert.deepStrictEqual(asGenerated(ResyncReasonCode), { ...gen.ResyncReason });
  assert.deepStrictEqual(asGenerated(TimeInForceCode), { ...gen.TimeInForce });
  assert.deepStrictEqual(asGenerated(SideCode), without(gen.Side, "UNSPECIFIED"));
  assert.deepStrictEqual(asGenerated(OrderTypeCode), without(gen.OrderType, "UNSPECIFIED"));
});

Deno.test("reject reasons 1 to 17 are the engine's codes (risk included), under the same names", () => {
  for (const [engineName, code] of Object.entries(EngineRejectReason)) {
    const wireName = engineName.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    assert.deepStrictEqual([wireName, ReasonCode[wireName as keyof typeof ReasonCode]], [
      wireName,
      code,
    ]);
  }
  assert.deepStrictEqual(ReasonCode.unspecified, 0);
  assert.deepStrictEqual(Math.max(...Object.values(EngineRejectReason)), 17);
});

Deno.test("RequestType numbers the ClientMessage union's members in order, from 1", () => {
  for (const [name, which] of Object.entries(gen.ClientMessage_Which)) {
    assert.deepStrictEqual(gen.RequestType[name as keyof typeof gen.RequestType], which + 1, name);
  }
  assert.deepStrictEqual(
    Object.keys(gen.RequestType).length,
    Object.keys(gen.ClientMessage_Which).length + 1,
  );
});

Deno.test("the schema keeps its file id", () => {
  // The id names the schema for every Cap'n Proto implementation; changing it
  // changes every type id derived from it.
  assert.deepStrictEqual(gen._capnpFileId, 0x82765e45dcc46ba4n);
});
