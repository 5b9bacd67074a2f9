/**
 * Test helper: the `pub const NAME: u32 = N;` constants of one `pub mod` of
 * a Rust source file, so that tests can hold the vocabulary's tables against
 * the engine's own codes.
 *
 * @module
 */

/**
 * Reads the constants of `pub mod <module>` in a file of `native/src/`.
 *
 * @param file The file, relative to `native/src/` (`"record.rs"`).
 * @param module The module's name (`"reject"`).
 * @returns Each constant's name (`"UNKNOWN_SYMBOL"`) and value.
 * @throws {Error} When the module is not there or holds no constant.
 */
export function rustConstants(file: string, module: string): Map<string, number> {
  const source = Deno.readTextFileSync(new URL(`../../native/src/${file}`, import.meta.url));
  const body = new RegExp(`pub mod ${module} \\{([^}]*)\\}`).exec(source)?.[1];
  if (body === undefined) throw new Error(`Cannot find pub mod ${module} in native/src/${file}`);
  const constants = new Map<string, number>();
  for (const [, name, value] of body.matchAll(/pub const ([A-Z0-9_]+): u32 = (\d+);/g)) {
    constants.set(name!, Number(value));
  }
  if (constants.size === 0) throw new Error(`pub mod ${module} in native/src/${file} is empty`);
  return constants;
}
