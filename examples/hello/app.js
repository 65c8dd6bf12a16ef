// berth's example app (image berth-example/hello:latest, built by
// scripts/build-test-images.sh example): a small page saying hello, which container
// answered and when. No npm dependencies; it runs FROM scratch with the node binary.
//
//   /healthz   200 "ok" (the readiness check of examples/apps/hello.yaml)
//   /ping      "pong"
//   anything   the HTML page (berth may forward /session/hello/... unstripped)
//
// Environment: PORT (default 8080), GREETING (the page's heading), ALWAYS_ON (set by a spec
// with scale.min ≥ 1: the page then says the gateway keeps it up instead of waking it).
import { createServer } from 'node:http';
import { hostname } from 'node:os';

const port = Number(process.env.PORT || 8080);
const greeting = process.env.GREETING || 'Hello from berth';
const howRun = process.env.ALWAYS_ON
  ? 'This container is kept running by berth (scale.min 1): it started with the gateway and is never stopped for being idle.'
  : 'This container was started by berth when a request arrived, and is stopped again when idle.';
const startedAt = new Date();
let served = 0;

const escapeHtml = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

function page(req) {
  const rows = [
    ['Container', hostname()],
    ['Time', new Date().toISOString()],
    ['Up since', startedAt.toISOString()],
    ['Requests served', String(served)],
    ['You asked for', `${req.method} ${req.url}`],
    ['Via', req.headers['x-forwarded-host'] ? `berth, for ${req.headers['x-forwarded-for'] ?? '?'}` : 'direct'],
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(greeting)}</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; padding: 0 1rem; color: #1d2733; }
  h1 { font-size: 2rem; margin-bottom: .25rem; }
  p.sub { color: #5b6b7d; margin-top: 0; }
  table { border-collapse: collapse; width: 100%; margin-top: 1.5rem; }
  th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #e3e8ee; }
  th { width: 12rem; color: #5b6b7d; font-weight: 500; }
  code { background: #f2f4f7; padding: .1rem .3rem; border-radius: 4px; }
</style>
</head>
<body>
<h1>⚓ ${escapeHtml(greeting)}</h1>
<p class="sub">${escapeHtml(howRun)}</p>
<table>
${rows.map(([k, v]) => `  <tr><th>${escapeHtml(k)}</th><td><code>${escapeHtml(v)}</code></td></tr>`).join('\n')}
</table>
</body>
</html>
`;
}

function send(res, status, type, body) {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

const server = createServer((req, res) => {
  const path = new URL(req.url || '/', 'http://hello.invalid').pathname;
  if (path === '/healthz') return send(res, 200, 'text/plain; charset=utf-8', 'ok\n');
  served++;
  if (path === '/ping') return send(res, 200, 'text/plain; charset=utf-8', 'pong');
  send(res, 200, 'text/html; charset=utf-8', page(req));
});

// Exit at once on SIGTERM (docker stop), so stopping an idle app is quick.
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));

server.listen(port, () => console.log(`hello: listening on :${port} on ${hostname()}`));
