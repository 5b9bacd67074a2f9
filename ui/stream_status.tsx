/**
 * The state of a page's live stream, and how it is shown.
 *
 * @module
 */

import { type ReadonlySignal, useComputed } from "@preact/signals";

/**
 * Where a page's live updates stand:
 *
 * - `snapshot`: as rendered by the server (no script has run, or none will);
 * - `connecting`: the first connection to the stream is being made;
 * - `live`: the stream is open and quotes arrive as they change;
 * - `reconnecting`: the stream broke and a new connection is being made.
 */
export type StreamStatus = "snapshot" | "connecting" | "live" | "reconnecting";

/** What each state reads as. */
export const STREAM_STATUS_TEXT: Readonly<Record<StreamStatus, string>> = {
  snapshot: "snapshot",
  connecting: "connecting…",
  live: "live",
  reconnecting: "reconnecting…",
};

/**
 * The stream's state as a small label (`data-status` carries the state's
 * name, for styles and tests).
 *
 * @param props The state.
 * @returns The label.
 */
export function StreamStatusText({ status }: { status: ReadonlySignal<StreamStatus> }) {
  const text = useComputed(() => STREAM_STATUS_TEXT[status.value]);
  return <span class="status" data-status={status}>{text}</span>;
}
