/**
 * The fan-out benchmark's reference: the least a Deno WebSocket server can
 * do to fan one symbol's frames out, run as a child process. Private to
 * `bench/` (see `gateway_bench.ts`).
 *
 * It serves `GET /ws` on a free loopback port (no authentication: a
 * connection's handshake is not on the fan-out path), answers a subscribe
 * with an empty snapshot, and at a set rate encodes one book delta as the
 * core's publisher does — `engineTime` now, encoded once by `FrameEncoder`,
 * stamped — and sends the same bytes to every subscriber. What the core adds
 * to that (engine, dispatcher, market data, gateway, its synthetic market)
 * is the difference between the two runs with the same clients.
 *
 * Environment: `REFERENCE_FRAMES_PER_SECOND` (default 100), `RUN_FOR_MS`
 * (it exits after that long, default 120,000). It prints
 * `reference: listening on ws://127.0.0.1:<port>/ws` for people and, for the
 * bench, status lines (`schemas/status_line.ts`): `"ready"` with its
 * addresses (`ws` among them) once it serves, `"stopped"` when it exits.
 * It exits when stdin closes, or on SIGTERM.
 *
 * @module
 */

import { encodeSymbol, FrameEncoder } from "../core/marketdata/mod.ts";
import { encodeServerMessage } from "../core/wire/server.ts";
import { SUBPROTOCOL } from "../core/gateway/config.ts";
import { formatStatusLine, listenAddresses } from "../schemas/status_line.ts";

/** Wall-clock ns since the epoch, as the core stamps frames. */
function nowNs(): bigint {
  const ms = performance.timeOrigin + performance.now();
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.floor((ms - whole) * 1e6));
}

function main(): void {
  const rate = Number(Deno.env.get("REFERENCE_FRAMES_PER_SECOND") ?? 100);
  const runForMs = Number(Deno.env.get("RUN_FOR_MS") ?? 120_000);
  if (!(rate > 0) || !(runForMs > 0)) {
    throw new RangeError("Cannot start the reference: rate and RUN_FOR_MS must be positive");
  }
  const subscribers = new Set<WebSocket>();
  // Sockets still open are reset by the exit: the clients are done by then.
  // Stopping is set up before the ready line is printed: the bench may stop
  // it the moment it reads that line.
  // (Deno.exit ends the pacing timer too.)
  const stop = (why: string) => {
    console.log(formatStatusLine({ event: "stopped", pid: Deno.pid, why }));
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
  Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ hostname, port }) => {
      console.log(`reference: listening on ws://127.0.0.1:${port}/ws`);
      console.log(formatStatusLine({
        event: "ready",
        pid: Deno.pid,
        addresses: listenAddresses(hostname, port, "/ws"),
      }));
    },
  }, (request) => {
    if (new URL(request.url).pathname !== "/ws") return new Response(null, { status: 404 });
    const offered = request.headers.get("sec-websocket-protocol") ?? "";
    const { socket, response } = Deno.upgradeWebSocket(
      request,
      offered.includes(SUBPROTOCOL) ? { protocol: SUBPROTOCOL } : {},
    );
    socket.binaryType = "arraybuffer";
    socket.onmessage = () => {
      // Any frame subscribes: the clients send only their subscription.
      socket.send(encodeServerMessage({
        type: "bookSnapshot",
        requestId: 1n,
        sentAt: nowNs(),
        symbol: "AAPL",
        sequence: 0n,
        bids: [],
        asks: [],
        engineTime: 0n,
      }));
      subscribers.add(socket);
    };
    socket.onclose = () => subscribers.delete(socket);
    return response;
  });

  const encoder = new FrameEncoder();
  const text = encodeSymbol("AAPL");
  let sequence = 0;
  let owed = 0;
  let last = performance.now();
  // A 10 ms timer, as the core's synthetic market paces itself.
  setInterval(() => {
    const now = performance.now();
    owed += ((now - last) / 1000) * rate;
    last = now;
    for (; owed >= 1; owed--) {
      const frame = encoder.bookDelta(text, ++sequence, nowNs(), [
        { side: 0, price: 19000 + (sequence % 7), qty: 100 + (sequence % 50), count: 1 },
      ]);
      encoder.stampSentAt(nowNs());
      for (const socket of subscribers) {
        if (socket.readyState === WebSocket.OPEN) socket.send(frame);
      }
    }
  }, 10);

  setTimeout(() => stop(`RUN_FOR_MS=${runForMs}`), runForMs);
  (async () => {
    // Exit when the parent closes stdin (or goes away).
    for await (const _ of Deno.stdin.readable) {
      // Nothing is read from it.
    }
    stop("stdin closed");
  })();
}

if (import.meta.main) main();
