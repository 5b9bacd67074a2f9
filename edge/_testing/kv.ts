/**
 * The edge's tests write snapshots with the shared helper beside the
 * contract (`schemas/_quotes_testing.ts`).
 *
 * @module
 */

export * from "../../schemas/_quotes_testing.ts";
