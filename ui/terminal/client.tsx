/**
 * The terminal's browser entry point, bundled into
 * `/assets/terminal-<hash>.js` (`ui/build.ts`): reads the page's state,
 * hydrates the server-rendered terminal, and gives the driver the
 * browser's WebSocket, `fetch`, animation frames and timers.
 *
 * @module
 */

import { type ContainerNode, hydrate } from "preact";
import { TerminalApp } from "./app.tsx";
import { mountCandles } from "./candle_view.ts";
import { parseTerminalState, TERMINAL_ELEMENT_ID, TERMINAL_STATE_ID } from "./page_state.ts";
import { makeTerminal } from "./render.tsx";
import type { SocketLike, TerminalEnvironment } from "./terminal.ts";

/** The little of the browser's globals this uses (the DOM library is not in the compiler options). */
interface Browser {
  document: {
    getElementById(id: string): (ContainerNode & { readonly textContent: string | null }) | null;
  };
  WebSocket: new (url: string, protocols: string[]) => SocketLike;
  requestAnimationFrame(fn: () => void): number;
  confirm(question: string): boolean;
}

function start(): void {
  const g = globalThis as unknown as Browser & typeof globalThis;
  const stateElement = g.document.getElementById(TERMINAL_STATE_ID);
  const root = g.document.getElementById(TERMINAL_ELEMENT_ID);
  if (stateElement === null || root === null) return;
  const state = parseTerminalState(stateElement.textContent ?? "");
  const env: TerminalEnvironment = {
    openSocket: (url, protocols) => new g.WebSocket(url, protocols),
    fetch: (url, init) => g.fetch(url, init),
    frame: (fn) => void g.requestAnimationFrame(fn),
    setTimeout: (fn, ms) => g.setTimeout(fn, ms),
    clearTimeout: (id) => g.clearTimeout(id as number),
    setInterval: (fn, ms) => g.setInterval(fn, ms),
    clearInterval: (id) => g.clearInterval(id as number),
    now: () => Date.now(),
  };
  const { terminal, instruments } = makeTerminal(state, env);
  hydrate(
    <TerminalApp
      terminal={terminal}
      instruments={instruments}
      ask={(q) => g.confirm(q)}
      mountCandles={mountCandles}
    />,
    root,
  );
}

start();
