import assert from "node:assert";

const MAIN = new URL("./main.ts", import.meta.url).pathname;

/** Runs `deno task bench`'s entry point with `args`; bad usage stops it before any bench runs. */
async function bench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-read",
      "--allow-write",
      "--allow-ffi",
      "--allow-env",
      "--allow-sys",
      "--allow-run",
      "--allow-net=127.0.0.1",
      MAIN,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return {
    code: output.code,
    stdout: text.decode(output.stdout),
    stderr: text.decode(output.stderr),
  };
}

Deno.test("bench exits 2 with the usage on stderr for bad usage, before measuring anything", async () => {
  const cases: [string[], string][] = [
    [["--frobnicate"], "Unknown flag --frobnicate"],
    [["--quick", "--cuont=5"], "Unknown flag --cuont"],
    [["fast"], "Unexpected argument fast"],
    [["-h"], "Unexpected argument -h"],
    [["--count"], "--count needs a value"],
    [["--count", "--quick"], "--count needs a value"],
    [["--no-gate=yes"], "--no-gate takes no value"],
    [["--no-terminal=yes"], "--no-terminal takes no value"],
    [["--count=0"], "--count must be an integer >= 1, got 0"],
    [["--tolerance", "1"], "--tolerance must be in [0, 1), got 1"],
  ];
  for (const [args, message] of cases) {
    const run = await bench(args);
    assert.deepStrictEqual([run.code, run.stdout], [2, ""], args.join(" "));
    assert(run.stderr.startsWith(message), `${args.join(" ")}: ${run.stderr}`);
  }
});

Deno.test("bench --help prints the usage on stdout and exits 0", async () => {
  const run = await bench(["--help"]);
  assert.deepStrictEqual(run.code, 0, run.stderr);
  assert(run.stdout.startsWith("Usage: deno task bench [--quick]"), run.stdout);
  assert(run.stdout.includes("[--no-terminal]"), run.stdout);
});
