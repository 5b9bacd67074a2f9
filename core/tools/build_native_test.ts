import assert from "node:assert";
import { BUILDING, cargoLines } from "./build_native.ts";

/** What the task prints for a transcript of cargo's stderr. */
function check(transcript: string[], expected: string[]): void {
  const show = cargoLines();
  assert.deepStrictEqual(transcript.flatMap(show), expected);
}

const FINISHED = "    Finished `release` profile [optimized + debuginfo] target(s) in 0.06s";

Deno.test("build:native prints nothing when the kernels are up to date", () => {
  check([FINISHED], []);
});

Deno.test("build:native says what it builds before cargo's first Compiling line, then shows cargo's progress", () => {
  const build = [
    "   Compiling libc v0.2.177",
    "   Compiling tradecaptain-native v0.1.0 (/work/main/native)",
    "    Finished `release` profile [optimized + debuginfo] target(s) in 21.40s",
  ];
  check(build, [BUILDING, ...build]);
});

Deno.test("build:native passes on errors, warnings and waits for another build's lock", () => {
  const lines = [
    "    Blocking waiting for file lock on build directory",
    "   Compiling tradecaptain-native v0.1.0 (/work/main/native)",
    "error[E0425]: cannot find value `x` in this scope",
    "error: could not compile `tradecaptain-native` (lib) due to 1 previous error",
  ];
  check(lines, [lines[0]!, BUILDING, ...lines.slice(1)]);
});
