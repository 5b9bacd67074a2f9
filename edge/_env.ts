/**
 * The Hono environment of the edge's app. Private to `edge/`.
 *
 * @module
 */

/** What handlers share through the context. */
export interface EdgeEnv {
  Variables: {
    /** The route pattern answering, for metrics labels ("unmatched" when none). */
    route: string;
  };
}
