/**
 * The vocabulary is defined once: this test reads the repository's
 * TypeScript (tests and generated files aside) and fails when a rule or a
 * table of `schemas/vocabulary/` is written again somewhere else, when
 * something outside `core/native/` imports the FFI record codec, or when
 * code compares a kind or a reason with a bare number.
 */
import { deepStrictEqual } from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);
const FOLDERS = ["core", "edge", "ui", "schemas", "bench"];

/** Every non-test source file under the folders, as [path, text]. */
function sources(): [string, string][] {
  const out: [string, string][] = [];
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(new URL(dir, ROOT))) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) {
        if (!["node_modules", "gen", "dist", "target"].includes(entry.name)) walk(path);
      } else if (/\.tsx?$/.test(entry.name) && !/_test\.tsx?$/.test(entry.name)) {
        out.push([path, Deno.readTextFileSync(new URL(path, ROOT))]);
      }
    }
  };
  for (const folder of FOLDERS) walk(folder);
  return out;
}

/** Lines of code (not comments) matching `pattern`, as `path:line`. */
function codeMatching(
  files: [string, string][],
  pattern: RegExp,
  skip: (path: string) => boolean,
): string[] {
  const found: string[] = [];
  for (const [path, text] of files) {
    if (skip(path)) continue;
    text.split("\n").forEach((line, i) => {
      if (/^\s*(\*|\/\/|\/\*)/.test(line)) return;
      if (pattern.test(line)) found.push(`${path}:${i + 1}`);
    });
  }
  return found;
}

const inVocabulary = (path: string) => path.startsWith("schemas/vocabulary/");
const files = sources();

Deno.test("the symbol rule is written once, in schemas/vocabulary/names.ts", () => {
  deepStrictEqual(codeMatching(files, /0-9\.-\]\{1,12\}/, inVocabulary), []);
});

Deno.test("the account name limit and the printable rule are written once", () => {
  deepStrictEqual(codeMatching(files, /MAX_ACCOUNT_BYTES\s*[:=]/, inVocabulary), []);
  deepStrictEqual(codeMatching(files, /\\p\{Cc\}/, inVocabulary), []);
});

Deno.test("the roles are listed once, in schemas/vocabulary/roles.ts", () => {
  deepStrictEqual(codeMatching(files, /"trader",\s*"viewer"/, inVocabulary), []);
});

Deno.test("the reason and limit tables are written once, in schemas/vocabulary/", () => {
  // A table of its own would spell a code beside a name, or a reason's words.
  deepStrictEqual(
    codeMatching(
      files,
      /\b(unknown_symbol|unknownSymbol|maxOrderQty|self_trade):\s*\d/,
      inVocabulary,
    ),
    [],
  );
  deepStrictEqual(codeMatching(files, /"the symbol is not traded"/, inVocabulary), []);
});

Deno.test("nothing outside core/native/ imports the FFI record codec", () => {
  deepStrictEqual(
    codeMatching(files, /from\s+"[^"]*native\/records\.ts"/, (p) => p.startsWith("core/native/")),
    [],
  );
});

Deno.test("no kind or reason is compared with a bare number", () => {
  deepStrictEqual(
    codeMatching(files, /\b(kind|reason)\s*[!=]==?\s*\d/, () => false),
    [],
  );
});
