import assert from "node:assert";
import { makeKvPrivate, makePrivateDir } from "./private_files.ts";

const mode = (path: string) => Deno.statSync(path).mode! & 0o777;

Deno.test("makePrivateDir() makes the folder and its missing parents 0700, and leaves an existing one alone", async () => {
  const root = await Deno.makeTempDir({ prefix: "tc-private-" });
  try {
    Deno.chmodSync(root, 0o755);
    makePrivateDir(`${root}/data/journal`);
    assert.deepStrictEqual([mode(`${root}/data`), mode(`${root}/data/journal`)], [0o700, 0o700]);
    assert.deepStrictEqual(mode(root), 0o755);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("makeKvPrivate() makes a KV file and SQLite's files beside it 0600, for every process that opens it", async () => {
  const root = await Deno.makeTempDir({ prefix: "tc-private-" });
  const path = `${root}/core.kv`;
  try {
    const kv = await Deno.openKv(path);
    await kv.set(["k"], 1);
    // As Deno makes it under the usual umask (022), or as an older core left it.
    for (const file of [path, `${path}-wal`, `${path}-shm`]) Deno.chmodSync(file, 0o644);
    const done = makeKvPrivate(path);
    assert.deepStrictEqual(done, [path, `${path}-wal`, `${path}-shm`]);
    for (const file of done) assert.deepStrictEqual(mode(file), 0o600, file);
    kv.close();
    // Another process's connection (the edge's) gets the database's mode for SQLite's files.
    const again = await Deno.openKv(path);
    await again.set(["k"], 2);
    for (const entry of Deno.readDirSync(root)) {
      assert.deepStrictEqual(mode(`${root}/${entry.name}`), 0o600);
    }
    again.close();
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
