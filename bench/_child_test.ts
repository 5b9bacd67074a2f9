import assert from "node:assert";
import os from "node:os";
import { Child } from "./_child.ts";

/** A child running `code` with `deno eval`. */
const evalChild = (code: string, stdin = false) =>
  Child.spawn("test child", Deno.execPath(), { args: ["eval", code], stdin });

/** Runs `fn`, returning its rejection's message (or failing if it resolves). */
async function rejection(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  throw new Error("expected a rejection");
}

Deno.test("Child.waitFor() returns the first later stdout line the matcher maps to a value", async () => {
  const child = evalChild(
    "console.log('a'); console.error('b 1'); console.log('b 2'); console.log('b 3');" +
      "setTimeout(() => {}, 60_000)",
  );
  try {
    const n = await child.waitFor((line) => /^b (\d)$/.exec(line)?.[1], 10_000, "a b line");
    assert.deepStrictEqual(n, "2"); // stderr lines are kept for messages, never matched
    assert(child.tail.includes("stderr: b 1"), child.tail);
  } finally {
    await child.stop();
  }
});

Deno.test("Child.waitFor() fails with the child's last output when it exits first", async () => {
  const child = evalChild("console.log('starting'); console.error('boom'); Deno.exit(4)");
  try {
    const message = await rejection(() => child.waitFor(() => undefined, 10_000, "a port"));
    assert(message.startsWith("test child: exited (code 4) waiting for a port"), message);
    assert(message.includes("starting") && message.includes("stderr: boom"), message);
  } finally {
    await child.stop();
  }
});

Deno.test("Child.waitFor() times out naming what it waited for, and passes a matcher's error on", async () => {
  const child = evalChild(
    "console.log('x'); setTimeout(() => console.log('y'), 300); setTimeout(() => {}, 60_000)",
  );
  try {
    const late = await rejection(() => child.waitFor(() => undefined, 50, "nothing"));
    assert(late.startsWith("test child: timed out after 50 ms waiting for nothing"), late);
    const thrown = await rejection(() =>
      child.waitFor(
        (line) => {
          if (line === "y") throw new RangeError("bad y");
          return undefined;
        },
        10_000,
        "y",
      )
    );
    assert.deepStrictEqual(thrown, "bad y");
  } finally {
    await child.stop();
  }
});

Deno.test("Child.write() reaches the child's stdin, and stop() lets it exit on its own", async () => {
  const child = evalChild(
    "for await (const chunk of Deno.stdin.readable) console.log('got ' + new TextDecoder().decode(chunk).trim());" +
      "console.log('eof')",
    true,
  );
  const got = child.waitFor((line) => (line.startsWith("got ") ? line : undefined), 10_000, "echo");
  await child.write("hello");
  assert.deepStrictEqual(await got, "got hello");
  const status = await child.stop(10_000, false); // closing stdin ends its loop
  assert.deepStrictEqual([status.success, child.tail.includes("eof")], [true, true]);
});

Deno.test("Child.stop() kills a child that ignores SIGTERM", async () => {
  const child = evalChild(
    "Deno.addSignalListener('SIGTERM', () => {}); console.log('ready'); setTimeout(() => {}, 60_000)",
  );
  await child.waitFor((line) => (line === "ready" ? true : undefined), 10_000, "ready");
  const status = await child.stop(200);
  assert.deepStrictEqual(status.signal, "SIGKILL");
  // Stopping again returns at once.
  assert.deepStrictEqual((await child.stop()).signal, "SIGKILL");
});

Deno.test("a child runs on every CPU even when the thread starting it is pinned to one", async () => {
  const cpus = os.cpus().length;
  const every = cpus === 1 ? "0" : `0-${cpus - 1}`;
  // A Deno pinned to CPU 0 (as the matching bench leaves its main thread)
  // starts a child through Child and prints what the child may run on.
  const child = new URL("./_child.ts", import.meta.url).href;
  const out = await new Deno.Command("taskset", {
    args: [
      "--cpu-list",
      "0",
      Deno.execPath(),
      "eval",
      `import { Child } from ${JSON.stringify(child)};
       const c = Child.spawn("grep", "grep", {
         args: ["-h", "Cpus_allowed_list", "/proc/self/status", "/proc/" + Deno.pid + "/status"],
       });
       await c.status;
       console.log(c.tail);`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert(out.success, new TextDecoder().decode(out.stderr));
  const [childList, parentList] = [...text.matchAll(/^Cpus_allowed_list:\s*(\S+)$/gm)].map((m) =>
    m[1]
  );
  assert.deepStrictEqual([parentList, childList], ["0", every]);
});
