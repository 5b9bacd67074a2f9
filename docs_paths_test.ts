/**
 * Every repository path the prose names exists: this test reads every
 * Markdown file of the repository and every doc comment (`/** … *\/` in
 * TypeScript and Rust, `//!` and `///` in Rust), takes each word of each
 * backticked span that looks like a path, and fails with `file:line: path`
 * for each one that names nothing in the tree.
 *
 * What counts as a path: a word of only letters, digits, `_`, `.`, `-` and
 * `/`, not starting with `/` (routes and absolute paths), that ends in a
 * known extension (`.ts`, `.tsx`, `.rs`, `.md`, `.json`, `.capnp`, `.toml`)
 * or in `/`, or that has a `/` and starts with a folder or file that exists
 * (so `text/event-stream` and `bid/ask` are words, not paths). URLs,
 * globs, placeholders (`<…>`, `{…}`), `KEY=value` settings and Rust paths
 * (`a::b`) have characters outside that set and are skipped. Fenced code
 * blocks (examples, shell sessions) are skipped: their imports are checked
 * by the type checker and `deno test --doc`.
 *
 * Where a path is resolved: from the repository root, from the folder of
 * the file that names it, from the root of its Rust crate (the nearest
 * folder up with a Cargo manifest) and that crate's source folder, and from
 * every folder the same file named before it (so, after `native/`,
 * `src/record.rs` resolves, and after `core/matching/`, `types.ts`). A path
 * that leaves the repository (`../shared/…`) is always a miss: the docs
 * stand on their own. So is a backticked span broken over two lines right
 * after a `/`: it renders as a path with a space in it.
 *
 * `CHANGELOG.md` is checked too: it has only an `[Unreleased]` section, which
 * describes the tree as it will ship, so a file it names must exist. Once a
 * version is released, its section is history and may name files that were
 * removed since; the check stops at the first released section's heading.
 */
import { deepStrictEqual } from "node:assert/strict";

const ROOT = new URL("./", import.meta.url);

/** Extensions that make a backticked word a path claim on their own. */
const EXTENSIONS = /\.(ts|tsx|rs|md|json|capnp|toml)$/;

/** Folders that are not the repository's source: build output, runtime data, VCS. */
const SKIPPED_FOLDERS = new Set([".git", "node_modules", "target", "data"]);

/** Generated files: their comments are the generator's, not ours. */
const SKIPPED_FILES = new Set(["schemas/gen/gateway.ts"]);

/**
 * Paths the prose names that are not in the repository on purpose, each with
 * why. Keep it small: everything else must exist.
 */
const ALLOWED: Record<string, string> = {
  "data/": "the runtime data folder (gitignored), created by the first start",
  "data/core.kv": "the default KV_PATH, created at runtime",
  "data/journal": "the default JOURNAL_DIR, created at runtime",
  "data/jwt.secret": "the gateway's token secret, made once at runtime",
  "snapshots/": "the engine snapshots' folder inside a journal folder, made at runtime",
  "terminal/artifacts/walk/": "the browser walk's screenshots (gitignored), made by its test run",
  "native/target/release/libtradecaptain_native.so":
    "the default TRADECAPTAIN_NATIVE_LIB, built by `deno task build:native`",
};

/** One backticked path that names nothing, where it is named. */
interface Miss {
  file: string;
  line: number;
  path: string;
}

/** A stretch of prose: its text and the line it starts on in its file. */
interface Prose {
  text: string;
  line: number;
}

/** Every file and folder of the repository, relative to the root (folders end in `/`). */
function repositoryEntries(): Set<string> {
  const entries = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(new URL(dir || ".", ROOT))) {
      if (SKIPPED_FOLDERS.has(entry.name)) continue;
      const path = `${dir}${entry.name}`;
      if (entry.isDirectory) {
        entries.add(`${path}/`);
        walk(`${path}/`);
      } else {
        entries.add(path);
      }
    }
  };
  walk("");
  return entries;
}

/** `text` without its fenced code blocks (lines kept, so line numbers stay right). */
function withoutFences(text: string): string {
  let inFence = false;
  return text.split("\n").map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      inFence = !inFence;
      return "";
    }
    return inFence ? "" : line;
  }).join("\n");
}

/** The prose of a Markdown file (up to its first released version's section). */
function markdownProse(text: string): Prose[] {
  const released = text.search(/^## \[(?!Unreleased\])/m);
  return [{ text: released < 0 ? text : text.slice(0, released), line: 1 }];
}

/** The doc comments of a TypeScript or Rust file, their comment markers blanked. */
function docComments(text: string, rust: boolean): Prose[] {
  const out: Prose[] = [];
  const lineAt = (index: number) => text.slice(0, index).split("\n").length;
  for (const match of text.matchAll(/\/\*\*(?!\/)[\s\S]*?\*\//g)) {
    const body = match[0]
      .slice(3, -2)
      .split("\n")
      .map((line) => line.replace(/^\s*\* ?/, ""))
      .join("\n");
    out.push({ text: body, line: lineAt(match.index) });
  }
  if (rust) {
    const lines = text.split("\n");
    let start = -1;
    let block: string[] = [];
    lines.forEach((line, i) => {
      const doc = /^\s*\/\/[!/](?!\/) ?(.*)$/.exec(line);
      if (doc) {
        if (start < 0) start = i;
        block.push(doc[1]!);
      }
      if ((!doc || i === lines.length - 1) && start >= 0) {
        out.push({ text: block.join("\n"), line: start + 1 });
        start = -1;
        block = [];
      }
    });
  }
  return out;
}

/** Backticked spans of `prose` as [content, line]; a span may run over lines. */
function codeSpans(prose: Prose): [string, number][] {
  const text = withoutFences(prose.text);
  const spans: [string, number][] = [];
  for (const match of text.matchAll(/(?<!`)(`+)(?!`)([\s\S]*?[^`])\1(?!`)/g)) {
    const line = prose.line + text.slice(0, match.index).split("\n").length - 1;
    spans.push([match[2]!, line]);
  }
  return spans;
}

/** `path` normalised against `base` (both repository-relative), or undefined outside the repository. */
function resolve(base: string, path: string): string | undefined {
  const parts = base.split("/").filter((part) => part !== "");
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else {
      parts.push(part);
    }
  }
  return parts.join("/");
}

/** The folder of a repository-relative file, with a trailing `/` (`""` for the root). */
function folderOf(file: string): string {
  return file.includes("/") ? file.slice(0, file.lastIndexOf("/") + 1) : "";
}

/** The Rust crate roots (and their `src/`) that hold `file`, innermost first. */
function crateFolders(file: string, entries: Set<string>): string[] {
  const out: string[] = [];
  let folder = folderOf(file);
  while (true) {
    if (entries.has(`${folder}Cargo.toml`)) out.push(folder, `${folder}src/`);
    if (folder === "") return out;
    folder = folderOf(folder.slice(0, -1));
  }
}

/**
 * The backticked paths in `text` (the contents of `file`) that name nothing
 * in `entries`.
 */
function missingPaths(file: string, text: string, entries: Set<string>): Miss[] {
  const markdown = file.endsWith(".md");
  const prose = markdown ? markdownProse(text) : docComments(text, file.endsWith(".rs"));
  const bases = [...new Set(["", folderOf(file), ...crateFolders(file, entries)])];
  const misses: Miss[] = [];
  const exists = (path: string) => entries.has(path) || entries.has(`${path}/`);
  for (const stretch of prose) {
    for (const [span, line] of codeSpans(stretch)) {
      // A path broken over two lines renders with a space in it.
      if (/\/[ \t]*\n/.test(span)) {
        misses.push({ file, line, path: `${span.replace(/\s+/g, "")} (split over lines)` });
        continue;
      }
      for (const raw of span.split(/\s+/)) {
        const word = raw.replace(/^[("']+|[)"',;.:]+$/g, "").replace(/:\d+(:\d+)?$/, "");
        if (!/^[\w.\-/]+$/.test(word) || word.startsWith("/") || /^\.\w+$/.test(word)) continue;
        if (word in ALLOWED) continue;
        const claimed = EXTENSIONS.test(word) || (word.endsWith("/") && word.length > 1);
        const candidates = bases.map((base) => resolve(base, word));
        if (!claimed) {
          if (!word.includes("/")) continue;
          const first = word.replace(/^(\.\.?\/)+/, "").split("/")[0]!;
          const leaves = candidates.some((path) => path === undefined);
          if (!leaves && !bases.some((base) => exists(`${base}${first}`))) continue;
        }
        const found = candidates.find((path) => path !== undefined && exists(path));
        if (found === undefined) {
          misses.push({ file, line, path: word });
        } else {
          const folder = entries.has(`${found}/`) ? `${found}/` : folderOf(found);
          if (!bases.includes(folder)) bases.push(folder);
        }
      }
    }
  }
  return misses;
}

/** Every Markdown file and every TypeScript or Rust source of the repository. */
function documents(entries: Set<string>): string[] {
  return [...entries]
    .filter((path) => /\.(md|ts|tsx|rs)$/.test(path) && !SKIPPED_FILES.has(path))
    .sort();
}

Deno.test("every repository path named in backticks in the docs and doc comments exists", () => {
  const entries = repositoryEntries();
  const misses = documents(entries).flatMap((file) =>
    missingPaths(file, Deno.readTextFileSync(new URL(file, ROOT)), entries)
  );
  deepStrictEqual(misses.map((miss) => `${miss.file}:${miss.line}: \`${miss.path}\``), []);
});

Deno.test("the path check flags missing paths, paths outside the repository and split spans", () => {
  const entries = new Set([
    "native/",
    "native/Cargo.toml",
    "native/src/",
    "native/src/lib.rs",
    "native/src/engine/",
    "native/src/engine/mod.rs",
    "core/",
    "core/app/",
    "core/app/dispatcher.ts",
    "core/matching/",
    "core/matching/types.ts",
    "README.md",
  ]);
  const doc = [
    "# Map",
    "The design is in `../shared/DESIGN.md`; the dispatcher is `core/app/dispatcher.ts`",
    "and its folder `core/app/`; `dispatcher.ts` again, `gone.ts` and `core/gone/`.",
    "`native/`: `src/lib.rs`, `src/engine/mod.rs`, `src/engine.rs`, `core/matching/",
    "  types.ts`. Not paths: `text/event-stream`, `DIR/lock`, `/admin/state`, `*.ts`,",
    "`KV_PATH=x/y.json`, `https://example.com/a.md`, `<dir>/a.ts`, `.capnp`, `data/core.kv`.",
    "```sh",
    "cat missing/in/a/fence.md",
    "```",
    "`README.md` and `./README.md` exist; `a/b` is a word.",
  ].join("\n");
  deepStrictEqual(missingPaths("ARCHITECTURE.md", doc, entries), [
    { file: "ARCHITECTURE.md", line: 2, path: "../shared/DESIGN.md" },
    { file: "ARCHITECTURE.md", line: 3, path: "gone.ts" },
    { file: "ARCHITECTURE.md", line: 3, path: "core/gone/" },
    { file: "ARCHITECTURE.md", line: 4, path: "src/engine.rs" },
    { file: "ARCHITECTURE.md", line: 4, path: "core/matching/types.ts (split over lines)" },
  ]);
  const rust = [
    "//! The engine (`engine/mod.rs`, `src/lib.rs`), not `engine.rs`.",
    "use std::fmt;",
    "/// Reads `lib.rs` and `missing.rs`.",
    "fn f() {}",
    "// `not_a_doc_comment.rs`",
  ].join("\n");
  deepStrictEqual(missingPaths("native/src/engine/thread.rs", rust, entries), [
    { file: "native/src/engine/thread.rs", line: 1, path: "engine.rs" },
    { file: "native/src/engine/thread.rs", line: 3, path: "missing.rs" },
  ]);
  const ts = [
    // Opened and closed by concatenation, so that this file's own doc comments end where they should.
    "/" + "**",
    " * Built by `core/app/dispatcher.ts`, once `core/app/gone.ts`.",
    " *",
    " * ```ts",
    ' * import { x } from "./fenced_missing.ts";',
    " * ```",
    " *" + "/",
    "// `plain_comment_missing.ts`",
    "const s = `template/literal.ts`;",
  ].join("\n");
  deepStrictEqual(missingPaths("core/app/x.ts", ts, entries), [
    { file: "core/app/x.ts", line: 2, path: "core/app/gone.ts" },
  ]);
});

Deno.test("every allowlisted path is still named in the docs or doc comments", () => {
  const entries = repositoryEntries();
  const named = new Set<string>();
  for (const file of documents(entries)) {
    const text = Deno.readTextFileSync(new URL(file, ROOT));
    const prose = file.endsWith(".md")
      ? markdownProse(text)
      : docComments(text, file.endsWith(".rs"));
    for (const stretch of prose) {
      for (const [span] of codeSpans(stretch)) {
        for (const word of span.split(/\s+/)) if (word in ALLOWED) named.add(word);
      }
    }
  }
  deepStrictEqual(Object.keys(ALLOWED).filter((path) => !named.has(path)), []);
});
