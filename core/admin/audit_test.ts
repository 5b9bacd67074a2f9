import assert from "node:assert";
import { AuditLog, isAuditId, MAX_AUDIT_PAGE } from "./audit.ts";

/** A log over an in-memory KV with a clock the test moves. */
async function withLog(
  fn: (log: AuditLog, clock: { now: number }) => Promise<void>,
): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  const clock = { now: Date.UTC(2026, 10, 26, 9, 30) };
  try {
    await fn(new AuditLog(kv, { now: () => clock.now }), clock);
  } finally {
    kv.close();
  }
}

const attempt = (path: string) => ({ actor: "ROOT", method: "PUT", path, body: '{"on":true}' });

Deno.test("AuditLog records an attempt before its answer, then the answer's status", async () => {
  await withLog(async (log, clock) => {
    const id = await log.begin(attempt("/admin/kill-switch"));
    assert.deepStrictEqual((await log.list()).entries, [{
      id,
      at: new Date(clock.now).toISOString(),
      actor: "ROOT",
      method: "PUT",
      path: "/admin/kill-switch",
      body: '{"on":true}',
    }]);
    await log.finish(id, 200);
    assert.deepStrictEqual((await log.list()).entries[0]?.status, 200);
  });
});

Deno.test("AuditLog ids grow with every entry, within a millisecond and when the clock steps back", async () => {
  await withLog(async (log, clock) => {
    const ids = [await log.begin(attempt("/a")), await log.begin(attempt("/b"))];
    clock.now -= 5_000;
    ids.push(await log.begin(attempt("/c")));
    clock.now += 10_000;
    ids.push(await log.begin(attempt("/d")));
    for (const id of ids) assert(isAuditId(id), id);
    assert.deepStrictEqual([...ids].sort(), ids);
    assert.deepStrictEqual(new Set(ids).size, 4);
    // Newest first.
    assert.deepStrictEqual((await log.list()).entries.map((e) => e.path), ["/d", "/c", "/b", "/a"]);
  });
});

Deno.test("AuditLog pages newest first: limit, next and before", async () => {
  await withLog(async (log, clock) => {
    for (let i = 0; i < 5; i++) {
      await log.begin(attempt(`/${i}`));
      clock.now += 1;
    }
    const first = await log.list({ limit: 2 });
    assert.deepStrictEqual(first.entries.map((e) => e.path), ["/4", "/3"]);
    const second = await log.list({ limit: 2, before: first.next! });
    assert.deepStrictEqual(second.entries.map((e) => e.path), ["/2", "/1"]);
    const last = await log.list({ limit: 2, before: second.next! });
    assert.deepStrictEqual(last.entries.map((e) => e.path), ["/0"]);
    assert.deepStrictEqual(last.next, undefined);
    assert.deepStrictEqual((await log.list({ limit: 5 })).next, undefined);
  });
});

Deno.test("AuditLog refuses a limit or a before it cannot use, and finishing an unknown entry", async () => {
  await withLog(async (log) => {
    for (const limit of [0, -1, 1.5, MAX_AUDIT_PAGE + 1, Number.NaN]) {
      let message = "";
      try {
        await log.list({ limit });
      } catch (error) {
        message = (error as Error).message;
      }
      assert.deepStrictEqual(
        message,
        `Cannot list the audit log: limit must be an integer from 1 to ${MAX_AUDIT_PAGE}, not ${limit}`,
      );
    }
    let message = "";
    try {
      await log.list({ before: "yesterday" });
    } catch (error) {
      message = (error as Error).message;
    }
    assert(message.startsWith("Cannot list the audit log: before must be an entry id"), message);
    message = "";
    try {
      await log.finish("001764000000000-000000", 200);
    } catch (error) {
      message = (error as Error).message;
    }
    assert.deepStrictEqual(
      message,
      "Cannot finish audit entry 001764000000000-000000: it does not exist",
    );
  });
});

Deno.test("isAuditId takes only the ids AuditLog makes", () => {
  assert(isAuditId("001764000000000-000012"));
  for (const id of ["", "1764000000000-12", "001764000000000-00001x", "001764000000000-000012 "]) {
    assert(!isAuditId(id), id);
  }
});
