/**
 * The gateway's fixed names and limits: who issues its tokens, whom they are
 * for, where the secret lives and which subprotocol the server speaks.
 *
 * @module
 */

/** The `iss` claim of the tokens the core mints, and the only one it accepts. */
export const ISSUER = "tradecaptain-core";

/** The `aud` claim the gateway requires (a string, or one entry of an array). */
export const AUDIENCE = "tradecaptain-gateway";

/** The folder holding `jwt.secret` unless told otherwise (relative to the working directory). */
export const DEFAULT_DATA_DIR = "data";

/** The name of the generated secret's file inside the data folder. */
export const SECRET_FILE = "jwt.secret";

/** The environment variable that, when set, holds the secret (base64url, no padding). */
export const SECRET_ENV = "GATEWAY_JWT_SECRET";

/** The shortest secret accepted: 256 bits, the size of an HMAC-SHA256 output (RFC 7518 §3.2). */
export const MIN_SECRET_BYTES = 32;

// The longest token read (4096 bytes) is the vocabulary's: the wire's
// `reauthenticate` decoder refuses longer ones too.
export { MAX_TOKEN_BYTES } from "../../schemas/vocabulary/names.ts";

/** The subprotocol the server echoes: the wire of `schemas/gateway.capnp`, version 1. */
export const SUBPROTOCOL = "tradecaptain.v1";

/** The prefix of the `Sec-WebSocket-Protocol` entry that carries the token: `bearer.<jwt>`. */
export const BEARER_PREFIX = "bearer.";

// The roles a token may grant are the vocabulary's (`schemas/vocabulary/roles.ts`).
export { type Role, ROLES } from "../../schemas/vocabulary/roles.ts";

/** Clock skew tolerated on `exp` and `nbf` unless told otherwise. */
export const DEFAULT_LEEWAY_SECONDS = 30;

/** Lifetime of a token minted by `deno task token` unless `--ttl` says otherwise. */
export const DEFAULT_TTL_SECONDS = 8 * 3600;
