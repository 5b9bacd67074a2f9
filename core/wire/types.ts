/**
 * The wire's vocabulary, re-exported from `schemas/wire/types.ts`, where it
 * lives so that the terminal in the browser speaks it without `core/`.
 *
 * @module
 */

export * from "../../schemas/wire/types.ts";
