/**
 * The frame header check, re-exported from `schemas/wire/frame.ts`, where it
 * lives so that the terminal in the browser checks the core's frames with it.
 *
 * @module
 */

export * from "../../schemas/wire/frame.ts";
