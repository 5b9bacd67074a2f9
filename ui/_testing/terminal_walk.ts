/**
 * The trader terminal walked in a real browser against a real core and
 * edge: Debian's Chromium, headless, driven by playwright-core; the core
 * (`core/main.ts`, the synthetic market running slowly, its journal and
 * account store in a temporary folder) and the edge (`edge/main.ts`) each a
 * child process on loopback. The account is made with `deno task user`'s
 * tool. Each step saves a screenshot in ui/terminal/artifacts/walk/
 * (`.gitignore`d; `WALK_ARTIFACTS` names another folder), printed at the end.
 *
 * Run by `ui/terminal/browser_walk_test.ts` in a child `deno test
 * --allow-all`, as `browser_cases.ts` is (playwright-core needs every
 * permission to load).
 *
 * Ports: the edge listens on port 0 and says where from its status line.
 * The core's port is picked free before it starts, because the edge's page
 * points the terminal at it and the restarted core must come back on it.
 *
 * @module
 */

/// <reference lib="dom" />
// The functions passed to the page (waitForFunction, $$eval) run in Chromium.

import { deepStrictEqual, fail, match, ok, strictEqual } from "node:assert/strict";
import { type Browser, chromium, type Page } from "playwright-core";
import { encodeBase64Url } from "../../core/gateway/_base64url.ts";
import { parseStatusLine, type ReadyLine } from "../../schemas/status_line.ts";
import { CHROMIUM } from "./chromium.ts";

const ROOT = new URL("../../", import.meta.url);
const ARTIFACTS = Deno.env.get("WALK_ARTIFACTS") ||
  new URL("ui/terminal/artifacts/walk/", ROOT).pathname;
/** Every wait's bound. */
const WAIT_MS = 15_000;
/**
 * The whole walk's: then the browser is closed, which fails whatever waits
 * on it, and the walk's `finally` stops the processes (before the 90 s after
 * which `browser_walk_test.ts` kills this one).
 */
const WALK_MS = 80_000;
const ACCOUNT = "WALKER";
const PASSWORD = "correct horse battery";

/** A child process and everything it printed. */
class Child {
  readonly process: Deno.ChildProcess;
  output = "";
  readonly #done: Promise<unknown>;

  constructor(
    readonly name: string,
    script: string,
    permissions: string[],
    env: Record<string, string>,
  ) {
    this.process = new Deno.Command(Deno.execPath(), {
      args: ["run", ...permissions, new URL(script, ROOT).pathname],
      cwd: ROOT,
      // The core stops itself when this process is gone (core/app/supervision.ts).
      env: { NO_COLOR: "1", TC_PARENT_PID: String(Deno.pid), ...env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const read = async (stream: ReadableStream<Uint8Array>) => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) this.output += decoder.decode(chunk, { stream: true });
    };
    this.#done = Promise.all([read(this.process.stdout), read(this.process.stderr)]);
  }

  /** Its ready status line, once it serves. */
  async ready(): Promise<ReadyLine> {
    const deadline = Date.now() + WAIT_MS;
    while (Date.now() < deadline) {
      for (const line of this.output.split("\n")) {
        const status = parseStatusLine(line);
        if (status?.event === "ready") return status;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    fail(`The ${this.name} did not get ready in ${WAIT_MS} ms:\n${this.output}`);
  }

  /** Kills it (`SIGKILL`: no clean shutdown) and waits for it to be gone. */
  async kill(signal: Deno.Signal = "SIGKILL"): Promise<void> {
    try {
      this.process.kill(signal);
    } catch {
      // Already gone.
    }
    await this.process.status;
    await this.#done;
  }
}

/** A loopback port free now (for the core, which must come back on the same one). */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Makes the account with the user tool, the password on stdin. */
async function addAccount(kvPath: string): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      new URL("core/tools/user.ts", ROOT).pathname,
      "add",
      ACCOUNT,
      "--role",
      "trader",
      "--kv",
      kvPath,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(`${PASSWORD}\n`));
  await writer.close();
  const out = await child.output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  ok(out.success, `deno task user add failed:\n${decode(out.stdout)}${decode(out.stderr)}`);
}

let step = 0;
/** Saves a screenshot of the step. */
async function shot(page: Page, name: string): Promise<void> {
  step++;
  await page.screenshot({
    path: `${ARTIFACTS}${String(step).padStart(2, "0")}-${name}.png`,
    fullPage: true,
  });
}

/** The text of the first match, trimmed. */
async function text(page: Page, selector: string): Promise<string> {
  return ((await page.locator(selector).first().textContent()) ?? "").trim();
}

/** Waits until `fn` (run in the page with `arg`) returns something truthy, and returns it. */
async function until<T>(
  page: Page,
  fn: (arg: never) => T,
  arg: unknown,
  what: string,
): Promise<Exclude<T, false | null | undefined>> {
  try {
    const handle = await page.waitForFunction(fn as (arg: unknown) => T, arg, {
      timeout: WAIT_MS,
      polling: 50,
    });
    return await handle.jsonValue() as Exclude<T, false | null | undefined>;
  } catch (error) {
    await shot(page, "failed").catch(() => {});
    throw new Error(
      `Waited ${WAIT_MS} ms for ${what}: ${error instanceof Error ? error.message : error}`,
    );
  }
}

/** The ladder's rows as the page shows them. */
interface Row {
  readonly price: number;
  readonly side: string;
  readonly text: string;
  readonly own: string;
}

function ladder(page: Page): Promise<Row[]> {
  return page.$$eval(".ladder tbody tr[data-price]", (trs) =>
    trs.map((tr) => ({
      price: Number((tr as HTMLElement).dataset.price),
      side: tr.classList.contains("buy") ? "buy" : "sell",
      text: tr.querySelector(".price")?.textContent ?? "",
      own: tr.querySelector(".own")?.textContent ?? "",
    })));
}

/** The blotter's working orders: [symbol, side, price, open, filled, TIF] per row. */
function workingOrders(page: Page): Promise<string[][]> {
  return page.$$eval(
    ".blotter table.orders tbody tr",
    (trs) =>
      trs.map((tr) => [...tr.querySelectorAll("td")].slice(0, 6).map((td) => td.textContent ?? "")),
  );
}

/** Fills the ticket and sends it with the Buy or Sell button. */
async function send(
  page: Page,
  side: "buy" | "sell",
  fields: { price: string; quantity?: string; tif?: string; postOnly?: boolean },
): Promise<void> {
  const ticket = page.locator(".ticket");
  await ticket.locator("select").nth(1).selectOption(fields.tif ?? "gtc");
  await ticket.locator("input[name=price]").fill(fields.price);
  await ticket.locator("input[name=quantity]").fill(fields.quantity ?? "1");
  const postOnly = ticket.locator("label.check input").first();
  if ((await postOnly.isChecked()) !== (fields.postOnly ?? false)) await postOnly.click();
  await ticket.locator(`button.${side}`).click();
}

const CORE_PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-ffi",
  "--allow-env",
  "--allow-sys",
  "--allow-net",
];

Deno.test({
  name: "browser walk: log in, trade, move, cancel, fill, reject, and survive the core's restart",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const started = Date.now();
    await Deno.remove(ARTIFACTS, { recursive: true }).catch(() => {});
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    const dir = await Deno.makeTempDir({ prefix: "tc-walk-" });
    const kvPath = `${dir}/core.kv`;
    await addAccount(kvPath);
    const corePort = freePort();
    const coreEnv: Record<string, string> = {
      CORE_PORT: String(corePort),
      KV_PATH: kvPath,
      JOURNAL_DIR: `${dir}/journal`,
      SYNTHETIC_RATE: "20",
      GATEWAY_JWT_SECRET: encodeBase64Url(crypto.getRandomValues(new Uint8Array(32))),
      DEMO_TRADER: "none",
    };
    const children: Child[] = [];
    let browser: Browser | undefined;
    const deadline = setTimeout(() => {
      console.error(`browser walk: still running after ${WALK_MS} ms: closing the browser`);
      void browser?.close();
    }, WALK_MS);
    try {
      // The edge first (port 0), so the core can let its origin in.
      const edge = new Child("edge", "edge/main.ts", [
        "--allow-net",
        "--allow-read",
        "--allow-env",
        `--allow-write=${dir}`,
      ], { EDGE_PORT: "0", KV_PATH: kvPath, EDGE_CORE_URL: `http://127.0.0.1:${corePort}` });
      children.push(edge);
      const edgeUrl = (await edge.ready()).addresses.http;
      coreEnv.GATEWAY_ORIGINS = edgeUrl;
      let core = new Child("core", "core/main.ts", CORE_PERMISSIONS, coreEnv);
      children.push(core);
      strictEqual((await core.ready()).addresses.port, corePort);

      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
      });
      const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
      const page = await context.newPage();
      page.setDefaultTimeout(WAIT_MS);
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
      // Every confirmation (orders, moves) is answered yes; the questions are kept.
      const questions: string[] = [];
      page.on("dialog", (d) => {
        questions.push(d.message());
        void d.accept();
      });

      // The snapshotter writes the instruments; the page lists them once the edge has them.
      await page.goto(`${edgeUrl}/trade`);
      await page.locator("form.login").waitFor({ timeout: WAIT_MS });
      await shot(page, "login-form");

      // 1. A wrong password, then an unknown account: the same refusal, no hint which.
      const refusal = async (account: string, password: string) => {
        await page.fill("input[name=account]", account);
        await page.fill("input[name=password]", password);
        const [response] = await Promise.all([
          page.waitForResponse((r) => r.url().endsWith("/auth/login"), { timeout: WAIT_MS }),
          page.click("form.login button[type=submit]"),
        ]);
        strictEqual(response.status(), 401);
        // The form is ready again once the refusal is shown.
        await page.locator("form.login button[type=submit]:enabled").waitFor({ timeout: WAIT_MS });
        return await text(page, ".login .error");
      };
      const wrong = await refusal(ACCOUNT, "not the password");
      match(wrong, /^Cannot log in: /);
      await shot(page, "wrong-password");
      strictEqual(await refusal("NOBODY", "not the password"), wrong);

      // 2. The right password: connected, the account in the bar.
      await page.fill("input[name=password]", PASSWORD);
      await page.fill("input[name=account]", ACCOUNT);
      await page.click("form.login button[type=submit]");
      await page.locator(".bar .state[data-state=connected]").waitFor({ timeout: WAIT_MS });
      strictEqual(await text(page, ".bar .who"), `${ACCOUNT} (trader)`);

      // 3. Choose a symbol: its ladder fills from the book's snapshot.
      const symbol = "MSFT";
      await page.click(`.watchlist tr:has(th:text-is("${symbol}"))`);
      await until(
        page,
        (s) =>
          document.querySelector(".ladder h2")?.textContent === `${s} ladder` &&
          document.querySelectorAll(".ladder tr.buy[data-price]").length >= 4 &&
          document.querySelectorAll(".ladder tr.sell[data-price]").length >= 1,
        symbol,
        `${symbol}'s ladder with four bid levels`,
      );
      strictEqual(await text(page, ".ticket h2"), `Order ticket — ${symbol}`);
      await shot(page, "subscribed");

      // 4. A buy limit on the third bid level (deep enough not to fill): on the ladder and in
      // working orders.
      const bids = (await ladder(page)).filter((r) => r.side === "buy");
      const at = bids[2]!;
      await send(page, "buy", { price: at.text, quantity: "2" });
      await until(
        page,
        (p) => document.querySelector(`.ladder tr[data-price="${p}"] .marker.buy`) !== null,
        at.price,
        "the order's marker on its level",
      );
      deepStrictEqual(await workingOrders(page), [[symbol, "buy", at.text, "2", "0", "GTC"]]);
      await shot(page, "order-working");

      // 5. Drag its marker to a lower bid level: replaced there, same open quantity. The book
      // is live, so rows come and go under the pointer: a drop that landed on no level moves
      // nothing (no question asked), and is tried again, up to 5 times.
      let moved: { to: string; question: string } | undefined;
      let drags = 0;
      for (; moved === undefined && drags < 5; drags++) {
        const target = (await ladder(page)).filter((r) => r.side === "buy" && r.price < at.price)
          .at(-1);
        ok(target !== undefined, "no lower bid level to drag to");
        const asked = questions.length;
        await page.locator(`.ladder tr[data-price="${at.price}"] .marker`).hover();
        await page.mouse.down();
        const to = await page.locator(`.ladder tr[data-price="${target.price}"] .price`)
          .boundingBox();
        if (to !== null) {
          await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 5 });
        }
        await page.mouse.up();
        // The question is asked in the release's own handler.
        const question = questions.slice(asked).find((q) => q.startsWith("Move: "));
        const said = question === undefined ? undefined : / to ([0-9.]+)\?$/.exec(question);
        if (question !== undefined && said?.[1] !== undefined) moved = { to: said[1], question };
      }
      ok(moved !== undefined, `no drop landed on a level in 5 tries: ${questions.join(" | ")}`);
      strictEqual(moved.question, `Move: buy 2 ${symbol} from ${at.text} to ${moved.to}?`);
      const movedTo = Math.round(Number(moved.to) * 100);
      ok(movedTo < at.price, `moved up, to ${moved.to}`);
      await until(
        page,
        (p) => document.querySelector(`.ladder tr[data-price="${p}"] .marker.buy`) !== null,
        movedTo,
        "the marker on the level it was dropped on",
      );
      deepStrictEqual(await workingOrders(page), [[symbol, "buy", moved.to, "2", "0", "GTC"]]);
      await shot(page, "order-moved");

      // 6. A click on the marker cancels it.
      await page.click(`.ladder tr[data-price="${movedTo}"] .marker`);
      await until(
        page,
        () => document.querySelectorAll(".blotter table.orders tbody tr").length === 0,
        undefined,
        "the working orders to empty",
      );
      strictEqual(await page.locator(".ladder .marker").count(), 0);
      await shot(page, "order-cancelled");

      // 7. Cross the spread both ways: fills, a position, then realised P&L.
      const fills = () =>
        page.$$eval(
          ".blotter table.fills tbody tr",
          (trs) =>
            trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")),
        );
      const position = () =>
        page.$$eval(
          ".blotter table.positions tbody tr",
          (trs) =>
            trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")),
        );
      const cross = async (side: "buy" | "sell", count: number) => {
        const rows = await ladder(page);
        // Well through the far side's best level: fills at once, rests nothing (IOC).
        const far = side === "buy"
          ? rows.filter((r) => r.side === "sell")[0]
          : rows.filter((r) => r.side === "buy").at(-1);
        ok(far !== undefined, `no ${side === "buy" ? "ask" : "bid"} to cross to`);
        await send(page, side, { price: far.text, tif: "ioc" });
        await until(
          page,
          (n) => document.querySelectorAll(".blotter table.fills tbody tr").length >= n,
          count,
          `fill ${count}`,
        );
      };
      await cross("buy", 1);
      const bought = await fills();
      strictEqual(bought[0]?.[0], symbol);
      strictEqual(bought[0]?.[1], "buy");
      let held = await position();
      strictEqual(held.length, 1);
      strictEqual(held[0]?.[1], "1");
      // The average at the fill's price (shown with two more decimals), nothing realised yet.
      deepStrictEqual([held[0]?.[2], held[0]?.[3]], [`${bought[0]?.[2]}00`, "0.00"]);
      ok(held[0]?.[4] !== "–", "no unrealised P&L marked to the last trade");
      await shot(page, "bought");
      const boughtQty = bought.reduce((n, f) => n + Number(f[3]), 0);
      strictEqual(boughtQty, 1);
      await cross("sell", 2);
      const all = await fills();
      const sold = all.filter((f) => f[1] === "sell");
      strictEqual(sold.reduce((n, f) => n + Number(f[3]), 0), 1);
      await until(
        page,
        () =>
          document.querySelector(".blotter table.positions tbody tr td:nth-child(2)")
            ?.textContent === "0",
        undefined,
        "the position to flatten",
      );
      held = await position();
      // Realised = (sell − buy) × 1 lot, in the instrument's 2 decimals.
      const cents = (s: string) => Math.round(Number(s) * 100);
      const realised = cents(sold[0]![2]!) - cents(bought[0]![2]!);
      strictEqual(cents(held[0]![3]!), realised);
      await shot(page, "sold-flat");

      // 8. Rejects in words: the ticket's own check (off the tick), then the engine's (post-only crossing).
      await page.click(`.watchlist tr:has(th:text-is("ES-FUT"))`);
      await send(page, "buy", { price: "5600.10" });
      match(await text(page, ".ticket .message"), /^Cannot place order: .*tick/);
      await shot(page, "rejected-by-ticket");
      await page.click(`.watchlist tr:has(th:text-is("${symbol}"))`);
      await until(
        page,
        (s) => document.querySelector(".ladder h2")?.textContent === `${s} ladder`,
        symbol,
        "the ladder back",
      );
      const ask = (await ladder(page)).filter((r) => r.side === "sell").at(-1);
      ok(ask !== undefined, "no ask for a post-only buy to cross");
      await send(page, "buy", { price: ask.text, postOnly: true });
      const notice = await until(
        page,
        () => document.querySelector(".blotter .notices li.reject")?.textContent || false,
        undefined,
        "the reject's notice",
      );
      match(notice, /^Cannot place order: /);
      ok(!/wouldCross|would_cross|\b\d+\b$/.test(notice), `a code, not words: ${notice}`);
      await shot(page, "rejected-by-engine");

      // 9. A resting order, then the core killed and started again on the same data.
      const deep = (await ladder(page)).filter((r) => r.side === "buy").at(-1)!;
      await send(page, "buy", { price: deep.text, quantity: "3" });
      await until(
        page,
        () => document.querySelectorAll(".blotter table.orders tbody tr").length === 1,
        undefined,
        "the resting order",
      );
      const before = {
        orders: await workingOrders(page),
        fills: await fills(),
        positions: await position(),
      };
      await core.kill("SIGKILL");
      await page.locator(".bar .state[data-state=reconnecting]").waitFor({ timeout: WAIT_MS });
      await shot(page, "core-down");
      deepStrictEqual(await workingOrders(page), before.orders, "the blotter emptied while down");
      // The same data, without the synthetic market: its flow could trade with the resting
      // order while the blotters are compared.
      core = new Child("core", "core/main.ts", CORE_PERMISSIONS, {
        ...coreEnv,
        SYNTHETIC_RATE: "0",
      });
      children.push(core);
      await core.ready();
      await page.locator(".bar .state[data-state=connected]").waitFor({ timeout: WAIT_MS * 2 });
      await until(
        page,
        (s) =>
          document.querySelector(".ladder h2")?.textContent === `${s} ladder` &&
          document.querySelectorAll(".ladder tr[data-price]").length > 0,
        symbol,
        "the ladder after the reconnect",
      );
      deepStrictEqual(
        { orders: await workingOrders(page), fills: await fills(), positions: await position() },
        before,
        "the blotter after the reconnect",
      );
      await shot(page, "reconnected");

      deepStrictEqual(errors, []);
      await context.close();
      console.log(
        `browser walk: ${step} screenshots in ${ARTIFACTS} (${
          Date.now() - started
        } ms; ${drags} drag(s) to move the order)`,
      );
    } finally {
      clearTimeout(deadline);
      await browser?.close();
      for (const child of children) await child.kill("SIGTERM");
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
