/**
 * The pages' style sheet. It is inlined in each page's `<style nonce>`
 * (it is small, and the page is readable and styled in one request); the
 * components never set `style` attributes, which the pages' CSP refuses.
 *
 * @module
 */

/** The CSS of the public pages. */
export const PAGE_CSS = `
:root { color-scheme: light dark; --up: #067d17; --down: #b3261e; --muted: #6b6b6b; }
@media (prefers-color-scheme: dark) { :root { --up: #5cc96b; --down: #ff8a80; --muted: #a0a0a0; } }
body { font: 16px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 56rem; padding: 0 1rem; }
a { color: inherit; }
h1 { margin: .5rem 0; } h1 .name { font-size: 1rem; font-weight: normal; color: var(--muted); }
.last { margin: .5rem 0 1.5rem; display: flex; align-items: baseline; gap: 1rem; flex-wrap: wrap; }
.last .price { font-size: 3rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.last .change { font-size: 1.25rem; font-variant-numeric: tabular-nums; }
.up { color: var(--up); } .down { color: var(--down); }
.stats { display: grid; grid-template-columns: repeat(auto-fill, minmax(12rem, 1fr)); gap: .25rem 1.5rem; }
.stats div { display: flex; justify-content: space-between; border-bottom: 1px solid #8884; }
.stats dt { color: var(--muted); } .stats dd { margin: 0; font-variant-numeric: tabular-nums; }
.updated { color: var(--muted); font-size: .875rem; margin-top: 1.5rem; }
.status[data-status="live"] { color: var(--up); }
.movers .sides { display: flex; gap: 3rem; flex-wrap: wrap; }
.movers h3 { font-size: 1rem; margin: 0; } .movers ol { padding-left: 1.25rem; margin: .25rem 0 1rem; }
.quotes { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
.quotes td, .quotes th { padding: .25rem .5rem; text-align: right; border-bottom: 1px solid #8884; }
.quotes th[scope="row"], .quotes .name, .quotes thead th:first-child { text-align: left; }
.quotes .name { color: var(--muted); }
.error .symbols { margin-top: 1.5rem; }
@media (max-width: 40rem) { .quotes .name { display: none; } }
`;
