import type { IncomingMessage, ServerResponse } from 'node:http';
import { acceptsHtml, escapeHtml } from './error-page.js';

/** berth's own paths on the proxy listener, answered before routing. */
export const BERTH_PATH_PREFIX = '/_berth/';

export interface WaitingPageInput {
  app: string;
  /**
   * The path berth was asked for (routed, without the query): the page polls the
   * status endpoint under whatever prefix a proxy in front mounts berth at. Without
   * it, the page polls `/_berth/status/<app>` at the root.
   */
  path?: string;
  title?: string;
  /** Plain text (escaped here). */
  message?: string;
  /** The operator's HTML (config `waitingPage.html`), trusted and inserted as it is; never from a spec. */
  bodyHtml?: string;
}

/**
 * A browser navigation: a GET for an HTML document, not a fetch or XHR (those
 * send Sec-Fetch-Mode other than navigate, or X-Requested-With) — only these
 * may be answered with a page instead of the app's own response.
 */
export function isBrowserNavigation(req: IncomingMessage): boolean {
  if (req.method !== 'GET') return false;
  if (!acceptsHtml(req.headers.accept)) return false;
  const mode = req.headers['sec-fetch-mode'];
  if (mode !== undefined && mode !== 'navigate') return false;
  return req.headers['x-requested-with'] === undefined;
}

const DEFAULT_MESSAGE = 'This app was asleep and is waking up. This page reloads by itself as soon as it is ready.';

/**
 * The please-wait page: self-contained (no external assets), it polls berth's
 * status endpoint and reloads the requested URL once the app is ready. If the
 * start fails it says so and stops polling, so it never spins forever. Without
 * JavaScript a meta refresh reloads it; the server then shows the failure
 * instead of this page, which ends that loop too.
 */
export function sendWaitingPage(res: ServerResponse, input: WaitingPageInput): number {
  const app = escapeHtml(input.app);
  const title = escapeHtml(input.title ?? `Starting ${input.app}…`);
  // Text first, then the operator's HTML; the default sentence only when neither is given.
  const message =
    input.message !== undefined ? escapeHtml(input.message) : input.bodyHtml === undefined ? escapeHtml(DEFAULT_MESSAGE) : '';
  const operatorHtml = input.bodyHtml === undefined ? '' : `\n<div id="body-html">${input.bodyHtml}</div>`;
  const statusPath = JSON.stringify(`${BERTH_PATH_PREFIX}status/${encodeURIComponent(input.app)}`);
  // The path's segments as berth saw them: the browser's path ends with these, after any prefix a proxy in front stripped.
  const depth = input.path === undefined ? 0 : segmentCount(input.path);
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<noscript><meta http-equiv="refresh" content="2"></noscript>
<title>${title}</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:12vh auto;padding:0 1rem;color:#1d2733;text-align:center}
.spin{width:2.5rem;height:2.5rem;margin:2rem auto;border:.3rem solid #d5dde6;border-top-color:#2f6fdb;border-radius:50%;animation:s 1s linear infinite}
@keyframes s{to{transform:rotate(360deg)}}
.failed .spin{display:none}#error{display:none;color:#a3261b}.failed #error{display:block}
button{font:inherit;padding:.4rem 1rem;margin-top:1rem}
@media (prefers-reduced-motion:reduce){.spin{animation:none}}
</style></head>
<body><main>
<h1>${title}</h1>
<div class="spin" role="progressbar" aria-label="starting ${app}"></div>
<p id="message" aria-live="polite">${message}</p>${operatorHtml}
<div id="error" role="alert"><p id="reason"></p><button type="button" onclick="location.reload()">Try again</button></div>
<p><small>app <code>${app}</code> · served by berth</small></p>
</main>
<script>
(function(){
  // What the browser's path has before the segments berth saw is the prefix berth is mounted at
  // (empty segments merged, as berth did); the status endpoint lives under it too.
  var depth=${depth}, parts=location.pathname.replace(/\\/+/g,'/').split('/');
  var delay=250, url=(depth>0&&parts.length>depth?parts.slice(0,parts.length-depth).join('/'):'')+${statusPath};
  function poll(){
    fetch(url,{cache:'no-store'}).then(function(r){
      // No such app any more (deleted, renamed): the reload gets berth's own answer for this address.
      if(r.status===404){location.reload();return null}
      if(!r.ok)throw new Error(String(r.status));
      return r.json();
    }).then(function(s){
      if(!s)return;
      // stopped or paused: it started and went idle again between two polls; nothing
      // changes until a request comes, so reload (that request wakes it again).
      if(s.ready||s.state==='stopped'||s.state==='paused'){location.reload();return}
      if(s.state==='failed'||s.state==='crashloop'){
        document.body.className='failed';
        document.getElementById('reason').textContent=s.error||('The app could not be started ('+s.state+').');
        return;
      }
      delay=Math.min(delay*1.5,2000);setTimeout(poll,delay);
    }).catch(function(){delay=Math.min(delay*2,5000);setTimeout(poll,delay)});
  }
  setTimeout(poll,delay);
})();
</script>
</body></html>`;
  res.writeHead(503, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'retry-after': '1',
  });
  res.end(body);
  // The body bytes sent, for the history (none to a HEAD: Node leaves the body out).
  return res.req?.method === 'HEAD' ? 0 : Buffer.byteLength(body);
}

/** How many `/` the path (query left out) has: `/` 1, `/a/b` 2, `/a/b/` 3. */
function segmentCount(path: string): number {
  let count = 0;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 63 /* ? */) break;
    if (c === 47 /* / */) count++;
  }
  return count;
}
