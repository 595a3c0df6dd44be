/**
 * `GET /ui`: the dashboard, one self-contained page (no build step, no
 * external files). It holds no data: its script reads the API (`/healthz`,
 * `/jobs`, `/jobs/<id>`, `/events` streamed by fetch, since EventSource
 * cannot send a token) with the token the user types once, kept in
 * sessionStorage (this tab only). A Content-Security-Policy lets only its own
 * inline script (page_script.ts) and style run, by hash.
 *
 * @module
 */
import type { Hono } from "hono";
import { JOB_STATES } from "../journal/mod.ts";
import { SCRIPT } from "./page_script.ts";

const STYLE = `
body{font:14px system-ui,sans-serif;margin:1rem;color:#111;background:#fff}
h1{font-size:1.3rem;margin:0 0 .5rem}h2{font-size:1.05rem;margin:1rem 0 .4rem}
#stats{display:flex;gap:1.5rem;flex-wrap:wrap;padding:.5rem;background:#f1f3f5;border-radius:4px}
#stats b{display:block;font-size:1.2rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.2rem .5rem;border-bottom:1px solid #ddd;vertical-align:top}
td.url{word-break:break-all}
button{font:inherit;padding:.15rem .6rem}button:focus-visible,a:focus-visible,select:focus-visible,input:focus-visible{outline:3px solid #1c7ed6;outline-offset:1px}
.link{background:none;border:none;color:#1864ab;text-decoration:underline;cursor:pointer;padding:0;font-family:monospace}
.failed,.cancelled{color:#c92a2a}.done{color:#2b8a3e}.running{color:#e67700}
#detail img{max-width:240px;max-height:240px;border:1px solid #ccc;display:block;margin-top:.3rem}
pre{background:#f8f9fa;padding:.4rem;overflow:auto;margin:.2rem 0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem}dd{margin:0;word-break:break-all}
[hidden]{display:none!important}#status{min-height:1.2em;color:#555}
`;

const STATE_OPTIONS = JOB_STATES.map((state) => `<option value="${state}">${state}</option>`).join("");

const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>imgserve</title>
<style>${STYLE}</style>
</head>
<body>
<h1>imgserve</h1>
<form id="login" hidden>
<p id="token-why"></p>
<label for="token">Token</label> <input id="token" type="password" autocomplete="off" required>
<button type="submit">Use token</button>
<p>The token is kept for this tab only.</p>
</form>
<main id="main" hidden>
<section id="stats" aria-label="server">
<div>queued<b id="queued">?</b></div><div>busy workers<b id="busy">?</b></div>
<div>jobs running<b id="jobs-active">?</b></div><div>worker memory<b id="memory">?</b></div>
<div>finished<b id="throughput">0 / min</b></div><div>events<b id="live">connecting</b></div>
</section>
<p id="status" role="status"></p>
<h2>Jobs</h2>
<form id="filters">
<label for="state">State</label> <select id="state"><option value="">any</option>${STATE_OPTIONS}</select>
<label for="limit">Per page</label> <select id="limit"><option>20</option><option selected>50</option><option>200</option></select>
<button type="submit">Show</button>
</form>
<table><thead><tr><th>id</th><th>state</th><th>accepted</th><th>destination</th><th>error</th></tr></thead>
<tbody id="jobs"></tbody></table>
<p id="empty" hidden>No jobs.</p>
<p><button id="first" type="button">First page</button> <button id="next" type="button">Next page</button> <span id="page"></span></p>
<section id="detail" hidden aria-labelledby="detail-title">
<h2 id="detail-title" tabindex="-1">Job <code id="detail-id"></code></h2>
<p><button id="cancel" type="button">Cancel job</button> <button id="retry" type="button">Retry job</button>
<button id="close" type="button">Close</button></p>
<dl id="facts"></dl>
<h3>Outputs</h3>
<ol id="outputs"></ol>
</section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

let policy: Promise<string> | undefined;

/** Only the page's own script and style run; it talks to this server alone and shows previews from blob: URLs. */
function contentSecurityPolicy(): Promise<string> {
  return policy ??= Promise.all([sha256(SCRIPT), sha256(STYLE)]).then(([script, style]) =>
    [
      "default-src 'none'",
      `script-src 'sha256-${script}'`,
      `style-src 'sha256-${style}'`,
      "connect-src 'self'",
      "img-src blob:",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join("; ")
  );
}

/**
 * Adds `GET /ui`. The page is served without a token (it holds no data;
 * the token check lets it through), every route it reads keeps the rule.
 *
 * @example
 * ```ts
 * dashboardRoute(app);
 * ```
 */
export function dashboardRoute(app: Hono): void {
  app.get("/ui", async (c) => {
    return c.html(HTML, 200, {
      "content-security-policy": await contentSecurityPolicy(),
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
    });
  });
}
