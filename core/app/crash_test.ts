/**
 * The kill -9 loop: a child core under synthetic load is killed at random
 * moments, many times, on one journal. After each kill, every command the
 * child had received all events for is in the journal; at each restart, the
 * state the engine recovers equals a replay of the journaled commands in a
 * fresh reference matcher.
 */

import assert from "node:assert";
import { loadInstruments, ReferenceMatcher } from "../matching/mod.ts";
import { isTradingCommand, journalEntries, JournalKind, readCommand } from "../native/mod.ts";
import { CORE_PERMISSIONS } from "../start.ts";
import { parseStatusLine } from "./status.ts";
import { mulberry32 } from "../synthetic/rng.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
/** The child's gateway secret (so that it writes no data/jwt.secret here): 32 bytes, base64url. */
const SECRET = "A".repeat(43);
const ROUNDS = 12;

/** Commands in the journal, and the state hash a fresh replay of them reaches. */
function replayJournal(dir: string): { commands: number; hash: bigint } {
  const matcher = new ReferenceMatcher(loadInstruments());
  let commands = 0;
  for (const record of journalEntries(dir)) {
    if (record.kind !== JournalKind.Command) continue;
    const words = new Uint32Array(record.payload.buffer);
    // The core's start-up controls (its stored risk state: none here) change
    // no book; the reference matcher has no risk layer to give them to.
    if (!isTradingCommand(words, 0)) continue;
    matcher.apply(readCommand(words, 0));
    commands++;
  }
  const hash = matcher.stateHash();
  matcher.close();
  return { commands, hash };
}

interface Round {
  /** The state hash after recovery, from the child's ready status line. */
  recoveredHash: bigint | undefined;
  /** Commands whose events the child had all received, by its last answer to GET /status. */
  acknowledged: number;
  output: string;
}

/**
 * Asks the child's GET /status for the commands it has had every event of,
 * every 20 ms, until `stop()`: the last answer received before the kill is
 * what the child acknowledged.
 */
function pollAcknowledged(statusUrl: string, round: Round): { stop(): Promise<void> } {
  let stopped = false;
  const polling = (async () => {
    while (!stopped) {
      try {
        const status = await (await fetch(statusUrl)).json();
        round.acknowledged = Math.max(round.acknowledged, status.stats.commands);
      } catch {
        // Killed: its last answer stands.
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await polling;
    },
  };
}

/** Starts a core on `dir`, kills it with SIGKILL `delayMs` after it starts trading. */
async function crashRound(dir: string, seed: number, delayMs: number): Promise<Round> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...CORE_PERMISSIONS, MAIN],
    env: {
      CORE_PORT: "0",
      GATEWAY_JWT_SECRET: SECRET,
      JOURNAL_DIR: dir,
      SYNTHETIC_RATE: "60000",
      SYNTHETIC_SEED: String(seed),
      SNAPSHOT_EVERY: "5000",
      // Each round replays the whole journal from its first record.
      JOURNAL_RETENTION: "all",
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const round: Round = { recoveredHash: undefined, acknowledged: 0, output: "" };
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  let poller: { stop(): Promise<void> } | undefined;
  const lines = child.stdout.pipeThrough(new TextDecoderStream());
  let pending = "";
  for await (const chunk of lines) {
    round.output += chunk;
    pending += chunk;
    const complete = pending.split("\n");
    pending = complete.pop()!;
    for (const line of complete) {
      const status = parseStatusLine(line);
      if (status?.event !== "ready" || killTimer !== undefined) continue;
      // Ready: it recovered, serves and trades.
      const hash = status.journal?.stateHash;
      round.recoveredHash = hash === undefined ? undefined : BigInt(hash);
      poller = pollAcknowledged(status.addresses.status, round);
      killTimer = setTimeout(() => child.kill("SIGKILL"), delayMs);
    }
  }
  clearTimeout(killTimer);
  await poller?.stop();
  const status = await child.status;
  const stderr = await new Response(child.stderr).text();
  assert.deepStrictEqual(
    status.signal,
    "SIGKILL",
    `the child should die by SIGKILL:\n${round.output}\n${stderr}`,
  );
  return round;
}

Deno.test("kill -9 at random moments loses no acknowledged command, and recovery equals a fresh replay", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tc-crash-" });
  const random = mulberry32(20261125);
  let killsUnderLoad = 0;
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const before = replayJournal(dir);
      const result = await crashRound(dir, round, 100 + Math.floor(random() * 700));
      if (round > 1) {
        assert.deepStrictEqual(
          result.recoveredHash,
          before.hash,
          `round ${round}: recovered state differs from a replay of the ${before.commands} journaled commands`,
        );
      }
      const after = replayJournal(dir);
      assert(
        after.commands >= before.commands + result.acknowledged,
        `round ${round}: ${result.acknowledged} commands were acknowledged, but the journal grew by only ${
          after.commands - before.commands
        }`,
      );
      if (result.acknowledged > 0) killsUnderLoad++;
    }
    assert(killsUnderLoad >= ROUNDS / 2, `only ${killsUnderLoad} kills hit a trading core`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
