/**
 * The connection bar: account and role, the connection's state (with the
 * reason it last closed), the round trip of the last ping, the time of the
 * last message; the theme switch and logout.
 *
 * @module
 */

import { useComputed } from "@preact/signals";
import type { Terminal } from "./terminal.ts";

/** Props of {@linkcode ConnectionBar}. */
export interface ConnectionBarProps {
  readonly terminal: Terminal;
  /** Switches between dark and light. */
  readonly onTheme: () => void;
}

const STATE_TEXT = {
  idle: "not connected",
  connecting: "connecting…",
  resynchronising: "resynchronising…",
  connected: "connected",
  reconnecting: "reconnecting…",
  stopped: "stopped",
} as const;

/**
 * The connection bar.
 *
 * @param props The terminal and the theme switch.
 * @returns The bar.
 */
export function ConnectionBar({ terminal, onTheme }: ConnectionBarProps) {
  const who = useComputed(() => {
    const id = terminal.identity.value;
    return id === undefined ? "" : `${id.account} (${id.role})`;
  });
  const state = useComputed(() => {
    const why = terminal.why.value;
    const s = terminal.status.value;
    return s === "connected" || why === "" ? STATE_TEXT[s] : `${STATE_TEXT[s]} — ${why}`;
  });
  const rtt = useComputed(() => {
    const ms = terminal.rttMs.value;
    return ms === undefined ? "RTT –" : `RTT ${ms} ms`;
  });
  const last = useComputed(() => {
    const at = terminal.lastMessageAt.value;
    return at === undefined ? "no message yet" : `last ${new Date(at).toISOString().slice(11, 23)}`;
  });
  return (
    <header class="bar">
      <strong>TradeCaptain</strong>
      <span class="who">{who}</span>
      <span class="state" data-state={terminal.status}>{state}</span>
      <span class="rtt">{rtt}</span>
      <span class="last-message">{last}</span>
      <span class="spacer" />
      <button type="button" onClick={onTheme}>Theme</button>
      <button type="button" onClick={() => terminal.logout()}>Log out</button>
    </header>
  );
}
