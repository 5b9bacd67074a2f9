/**
 * The house has no import circle: no TypeScript module of ours reaches
 * itself again through its imports (value or type). A circle makes the
 * order modules initialise in depend on who imports first, and hides which
 * layer depends on which. `native/tests/modules.rs` checks the same for the
 * Rust crate.
 *
 * The graph is Deno's own (`deno info --json`) over one module that imports
 * every non-test module of the repository.
 */

import assert from "node:assert";

const ROOT = new URL("./", import.meta.url);
const FOLDERS = ["core", "edge", "ui", "schemas", "bench"];
/** Generated or built output: not ours to untangle. */
const SKIP = new Set(["gen", "dist", "target", "orderbook_rs_peer"]);

/** Every non-test `.ts`/`.tsx` module under `folder`, as file URLs. */
function modules(folder: URL): string[] {
  const found: string[] = [];
  for (const entry of Deno.readDirSync(folder)) {
    if (SKIP.has(entry.name)) continue;
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), folder);
    if (entry.isDirectory) found.push(...modules(url));
    else if (/\.tsx?$/.test(entry.name) && !/_test\.tsx?$/.test(entry.name)) found.push(url.href);
  }
  return found;
}

/** Strongly connected components of more than one module, or of one that imports itself. */
export function circles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component);
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

Deno.test("circles() finds a circle of two, one of one, and none in a chain", () => {
  const graph = new Map([["a", ["b"]], ["b", ["a", "c"]], ["c", ["d"]], ["d", []], ["e", ["e"]]]);
  const found = circles(graph).map((c) => c.sort().join(" "));
  assert.deepStrictEqual(found.sort(), ["a b", "e"]);
  assert.deepStrictEqual(circles(new Map([["x", ["y"]], ["y", []]])), []);
});

Deno.test("no TypeScript module of the repository imports itself through others", async () => {
  const all = FOLDERS.flatMap((f) => modules(new URL(`${f}/`, ROOT)));
  assert(all.length > 100, `only ${all.length} modules found`);
  const dir = await Deno.makeTempDir({ prefix: "tc-cycles-" });
  try {
    const entry = `${dir}/all.ts`;
    await Deno.writeTextFile(entry, all.map((m) => `import "${m}";\n`).join(""));
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", new URL("deno.json", ROOT).pathname, entry],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert(output.success, new TextDecoder().decode(output.stderr));
    const info = JSON.parse(new TextDecoder().decode(output.stdout)) as {
      modules: {
        specifier: string;
        dependencies?: { code?: { specifier: string }; type?: { specifier: string } }[];
      }[];
    };
    const ours = (s: string | undefined): s is string => s?.startsWith(ROOT.href) ?? false;
    const graph = new Map<string, string[]>();
    for (const m of info.modules) {
      if (!ours(m.specifier)) continue;
      const deps = (m.dependencies ?? []).flatMap((d) => [d.code?.specifier, d.type?.specifier]);
      graph.set(m.specifier, deps.filter(ours));
    }
    assert(graph.size >= all.length, `the graph holds ${graph.size} of ${all.length} modules`);
    const relative = (s: string) => s.slice(ROOT.href.length);
    assert.deepStrictEqual(circles(graph).map((c) => c.map(relative).sort()), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
