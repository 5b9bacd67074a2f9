/**
 * The terminal's style sheet, inlined in the page's `<style nonce>` (the
 * page's CSP refuses `style` attributes). Dark and light themes switch on
 * `data-theme`; the grid folds to one column on narrow screens (tablets).
 *
 * @module
 */

/** The terminal's CSS. */
export const TERMINAL_CSS = `
.terminal { --bg: #0f1216; --panel: #171b21; --fg: #e3e6ea; --muted: #8a93a0; --line: #2a313b;
  --buy: #3fb968; --sell: #ef5350; --accent: #4c8dff; --last: #3b3420;
  background: var(--bg); color: var(--fg); min-height: 100vh;
  font: 13px/1.35 system-ui, sans-serif; font-variant-numeric: tabular-nums; }
.terminal[data-theme="light"] { --bg: #f4f5f7; --panel: #fff; --fg: #1b1f24; --muted: #5d6672;
  --line: #d9dde3; --buy: #137a3a; --sell: #c62828; --accent: #1f5fd1; --last: #fff3c4; }
body { margin: 0; }
.terminal button { font: inherit; color: inherit; background: var(--panel); border: 1px solid var(--line);
  border-radius: 3px; padding: .15rem .5rem; cursor: pointer; }
.terminal input, .terminal select { font: inherit; color: inherit; background: var(--bg);
  border: 1px solid var(--line); border-radius: 3px; padding: .15rem .3rem; }
.bar { display: flex; gap: 1rem; align-items: center; padding: .4rem .75rem;
  border-bottom: 1px solid var(--line); background: var(--panel); }
.bar .spacer { flex: 1; } .bar .state[data-state="connected"] { color: var(--buy); }
.bar .state[data-state="reconnecting"], .bar .state[data-state="stopped"] { color: var(--sell); }
.bar .rtt, .bar .last-message, .bar .who { color: var(--muted); }
.workspace { display: grid; gap: .5rem; padding: .5rem;
  grid-template-columns: minmax(14rem, 1fr) minmax(20rem, 1.4fr) minmax(14rem, 1fr);
  grid-template-areas: "watch ladder ticket" "watch ladder tape" "chart chart depth"
    "blotter blotter blotter"; }
.watchlist { grid-area: watch; } .ladder { grid-area: ladder; } .ticket { grid-area: ticket; }
.tape { grid-area: tape; } .blotter { grid-area: blotter; } .chart { grid-area: chart; }
.depth { grid-area: depth; }
@media (max-width: 60rem) { .workspace { grid-template-columns: 1fr;
  grid-template-areas: "watch" "ladder" "ticket" "tape" "chart" "depth" "blotter"; } }
.chart .candles { height: 16rem; position: relative; }
.chart h2 .attribution { color: var(--muted); text-transform: none; letter-spacing: 0; font-weight: 400; }
.depth-chart { width: 100%; height: 10rem; display: block; }
.depth-chart .bids { fill: var(--buy); fill-opacity: .35; stroke: var(--buy); }
.depth-chart .asks { fill: var(--sell); fill-opacity: .35; stroke: var(--sell); }
.depth-scale { display: flex; justify-content: space-between; color: var(--muted); }
.watchlist td.spark { width: 4rem; padding: 0 .2rem; } .spark svg { width: 4rem; height: 1rem; display: block; }
.spark polyline { fill: none; stroke: var(--accent); stroke-width: 1; vector-effect: non-scaling-stroke; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 4px; padding: .5rem;
  overflow: auto; }
.panel h2 { font-size: .8rem; text-transform: uppercase; letter-spacing: .05em; color: var(--muted);
  margin: 0 0 .4rem; }
.panel table { border-collapse: collapse; width: 100%; }
.panel td, .panel th { padding: .1rem .4rem; text-align: right; border-bottom: 1px solid var(--line); }
.panel th:first-child, .panel td:first-child { text-align: left; }
.watchlist tr { cursor: pointer; } .watchlist tr[aria-selected="true"] { outline: 1px solid var(--accent); }
.up { color: var(--buy); } .down { color: var(--sell); }
tr.buy .price, tr.buy td.hit { color: var(--buy); } tr.sell .price, tr.sell td.hit { color: var(--sell); }
.ladder td.hit { cursor: pointer; min-width: 4rem; } .ladder td.hit:hover { outline: 1px solid var(--accent); }
.ladder tr.last { background: var(--last); } .ladder .price { text-align: center; font-weight: 600; }
.ladder .marker { padding: 0 .3rem; margin-right: .2rem; cursor: grab; touch-action: none; } .marker.buy { border-color: var(--buy); }
.marker.sell { border-color: var(--sell); } .stale { color: var(--sell); margin-left: .5rem; }
.tape tr.buy td:nth-child(2) { color: var(--buy); } .tape tr.sell td:nth-child(2) { color: var(--sell); }
.ticket form { display: grid; grid-template-columns: 1fr 1fr; gap: .4rem; }
.ticket label { display: grid; gap: .15rem; color: var(--muted); min-width: 0; }
.ticket input, .ticket select { width: 100%; box-sizing: border-box; }
.ticket .actions { flex-wrap: wrap; }
.ticket label.check { display: flex; align-items: center; gap: .3rem; }
.ticket .actions { grid-column: 1 / -1; display: flex; gap: .4rem; }
.ticket button.buy { border-color: var(--buy); color: var(--buy); }
.ticket button.sell { border-color: var(--sell); color: var(--sell); }
.ticket .message { grid-column: 1 / -1; min-height: 1.2em; margin: 0; }
.notices { list-style: none; padding: 0; margin: .5rem 0 0; } .notices li.reject, .notices li.error { color: var(--sell); }
.login { max-width: 20rem; margin: 15vh auto; display: grid; gap: .6rem; }
.login h1 { font-size: 1.1rem; margin: 0; } .login label { display: grid; gap: .2rem; }
.login .error { color: var(--sell); min-height: 1.2em; margin: 0; }
`;
