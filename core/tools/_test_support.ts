/**
 * What the tools' tests share: running a tool as a subprocess, a sample
 * command stream, and reading a journal's segment files.
 *
 * @module
 */

import { commandToJson, loadInstruments } from "../matching/mod.ts";
import { benchFlow } from "../synthetic/mod.ts";

/** Each tool's script and the permissions its task in `deno.json` gives it. */
const TOOLS = {
  match: {
    script: new URL("./match.ts", import.meta.url).pathname,
    permissions: ["--allow-read", "--allow-write", "--allow-ffi", "--allow-env"],
  },
  journal: {
    script: new URL("./journal.ts", import.meta.url).pathname,
    permissions: ["--allow-read", "--allow-write", "--allow-ffi", "--allow-env"],
  },
  user: {
    script: new URL("./user.ts", import.meta.url).pathname,
    permissions: ["--allow-read", "--allow-write", "--allow-env"],
  },
} as const;

/** What a tool run printed and how it ended. */
export interface ToolRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `deno run … core/tools/<tool>.ts ARGS` with the permissions of its
 * task, feeding it `stdin`.
 *
 * @param tool Which tool.
 * @param args Its arguments.
 * @param stdin Its input (default none).
 * @param env Variables set for it beside the inherited ones (default none).
 * @returns Exit code, stdout and stderr.
 */
export async function runTool(
  tool: keyof typeof TOOLS,
  args: readonly string[],
  stdin = "",
  env: Record<string, string> = {},
): Promise<ToolRun> {
  const { script, permissions } = TOOLS[tool];
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...permissions, script, ...args],
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(stdin));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}

/** Fails with the run's stderr unless it exited with `code`. */
export function expectCode(run: ToolRun, code: number): ToolRun {
  if (run.code !== code) {
    throw new Error(`expected exit code ${code}, got ${run.code}; stderr:\n${run.stderr}`);
  }
  return run;
}

/** Lines that exercise every rejection, and accounts whose names are not ASCII. */
const EDGE_LINES = [
  { account: "Zoë", symbol: "NOPE", price: 100, qty: 5 },
  { account: "Zoë", qty: 0, price: 100 },
  { account: "Zoë", qty: 3, price: -5 },
  { account: "Zoë", qty: 3, price: 1.5 },
  { account: "Zoë", type: "market", price: 100, qty: 3 },
  { account: "Zoë", tif: "ioc", postOnly: true, price: 100, qty: 3 },
  { account: "Zoë", symbol: "ES-FUT", price: 560010, qty: 3 },
  { account: "€".repeat(16), side: "sell", price: 19000, qty: 4 },
  { account: "€".repeat(16), price: 19000, qty: 9, tif: "fok" },
  { account: "Zoë", price: 19000, qty: 2, tif: "ioc" },
  { account: "Zoë", price: 18990, qty: 2, postOnly: true },
  { account: "€".repeat(16), side: "sell", price: 18990, qty: 1, postOnly: true },
].map((fields, i) =>
  JSON.stringify({
    op: "new",
    id: 900_000 + i,
    symbol: "AAPL",
    side: "buy",
    type: "limit",
    ...fields,
  })
).concat([
  '{"op":"replace","id":900007,"price":"x","qty":-1}',
  '{"op":"replace","id":900007,"price":18995,"qty":2}',
  '{"op":"cancel","id":123456789}',
  '{"op":"new","id":900000,"account":"Zoë","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":1}',
]);

/**
 * A sample command stream as lines of `match`'s input: two benchmark flows
 * (AAPL and ES-FUT, small books, so there are many trades, self-trade
 * cancels and replaces) interleaved, after lines that exercise every
 * rejection. Every line is a command (no error lines).
 *
 * @param count Commands per flow.
 * @returns The lines.
 */
export function sampleLines(count = 600): string[] {
  const instruments = loadInstruments();
  const name = (account: number) => `trader-${account}`;
  const a = benchFlow({ seed: 3, count, depth: 8 });
  const b = benchFlow({ seed: 4, count, depth: 8, instrument: 9, firstId: 500_000 });
  const out = [...EDGE_LINES];
  for (let i = 0; i < count; i++) {
    out.push(JSON.stringify(commandToJson(a[i]!, instruments, name)));
    out.push(JSON.stringify(commandToJson(b[i]!, instruments, name)));
  }
  return out;
}

/** Joins lines as a JSON Lines text (a line break after each). */
export function jsonl(lines: readonly string[]): string {
  return lines.map((line) => `${line}\n`).join("");
}

/**
 * The byte offsets and lengths of the records in a segment file (layout in
 * `native/src/journal/mod.rs`: a 64-byte header, then records whose first
 * word is their length, until a length of 0).
 *
 * @param bytes The segment file.
 * @returns Each record's offset and length.
 */
export function recordExtents(bytes: Uint8Array): { offset: number; length: number }[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: { offset: number; length: number }[] = [];
  for (let offset = 64; offset + 4 <= bytes.length;) {
    const length = view.getUint32(offset, true);
    if (length === 0) break;
    out.push({ offset, length });
    offset += length;
  }
  return out;
}

/** The journal's first segment file. */
export function firstSegment(dir: string): string {
  return `${dir}/segment-0000000000000000.tcj`;
}

/** A 64-byte record as words. */
export function words(payload: Uint8Array): Uint32Array {
  return new Uint32Array(payload.buffer, payload.byteOffset, payload.byteLength >> 2);
}
