// The snapshotter as `deno task start` runs it: a real core (native engine,
// journal, synthetic market) writing to a real KV file, stopped and started
// again. It belongs with core/main_test.ts; it lives here while that file
// has another owner.

import { encodeBase64Url } from "../gateway/_base64url.ts";
import { parseQuoteSnapshot, QUOTE_KEYS, type QuoteSnapshot } from "../../schemas/quotes.ts";
import assert from "node:assert";
import { withTempDir } from "../_testing/temp.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const PERMISSIONS = ["--allow-read", "--allow-write", "--allow-ffi", "--allow-env", "--allow-sys"];
const SECRET = encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));

async function runCore(env: Record<string, string>): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMISSIONS, "--allow-net", MAIN],
    env: { CORE_PORT: "0", GATEWAY_JWT_SECRET: SECRET, ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout);
  assert.deepStrictEqual(code, 0, `${out}\n${new TextDecoder().decode(stderr)}`);
  return out;
}

async function readQuotes(path: string) {
  const kv = await Deno.openKv(path);
  try {
    const version = (await kv.get<bigint>(QUOTE_KEYS.version)).value;
    const snapshots = new Map<string, QuoteSnapshot>();
    for await (const entry of kv.list({ prefix: ["quotes", "symbol"] })) {
      const parsed = parseQuoteSnapshot(entry.value);
      assert(parsed.ok, `${String(entry.key[2])}: ${parsed.ok ? "" : parsed.problem}`);
      snapshots.set(parsed.snapshot.symbol, parsed.snapshot);
    }
    return { version, snapshots };
  } finally {
    kv.close();
  }
}

Deno.test("the core writes quote snapshots to KV_PATH, and after a restart they show the recovered books and the day so far", async () => {
  await withTempDir(async (dir) => {
    const env = { KV_PATH: `${dir}/core.kv`, JOURNAL_DIR: `${dir}/journal` };
    const out = await runCore({ ...env, RUN_FOR_MS: "1500", SYNTHETIC_RATE: "4000" });
    assert(out.includes(`quotes: 10 symbols to ${dir}/core.kv every 100 ms, version 1\n`), out);
    const first = await readQuotes(env.KV_PATH);
    assert(first.version !== null && first.version > 3n, `version ${first.version}`);
    assert.deepStrictEqual(first.snapshots.size, 10);
    const traded = [...first.snapshots.values()].filter((s) => s.day !== null);
    assert(traded.length > 0, "no symbol traded");
    for (const s of first.snapshots.values()) {
      assert(s.version <= Number(first.version), `${s.symbol} is ahead of the version`);
      if (s.bid && s.ask) assert(s.bid.price < s.ask.price, `${s.symbol}'s book is crossed`);
    }

    // Started again, with no market: the same books (from the journal) and
    // the same day (from the snapshots), a new version, channels from 0.
    const again = await runCore({ ...env, RUN_FOR_MS: "300", SYNTHETIC_RATE: "0" });
    const version = first.version + 1n;
    assert(
      again.includes(`quotes: 10 symbols to ${dir}/core.kv every 100 ms, version ${version}`),
      again,
    );
    const second = await readQuotes(env.KV_PATH);
    assert.deepStrictEqual(second.version, version);
    const sameDay = (s: QuoteSnapshot) =>
      Math.floor(s.lastTrade!.time / 86_400_000) === Math.floor(Date.now() / 86_400_000);
    for (const [symbol, before] of first.snapshots) {
      const after = second.snapshots.get(symbol)!;
      assert.deepStrictEqual([after.bid, after.ask], [before.bid, before.ask], symbol);
      assert.deepStrictEqual([after.version, after.sequence], [Number(version), 0], symbol);
      assert.deepStrictEqual(after.lastTrade, before.lastTrade, symbol);
      if (before.day !== null && sameDay(before)) {
        assert.deepStrictEqual(after.day, before.day, symbol);
      }
    }
  });
});
