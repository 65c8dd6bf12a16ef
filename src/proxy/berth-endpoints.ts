import type { IncomingMessage, ServerResponse } from 'node:http';
import { problemFor, writeProblem } from '../api/problem.js';
import type { ErrorCode } from '../errors.js';
import type { RouteTable } from './route-table.js';
import type { UpstreamSource } from './upstream.js';
import { BERTH_PATH_PREFIX } from './waiting-page.js';

/**
 * berth's public endpoints on the proxy listener:
 * - `GET /_berth/status/<app>`, used by the waiting page, tells whether the app is
 *   ready or why it failed. It reveals no more than a request to the app would:
 *   it answers only on a host where some path reaches the app (where its waiting
 *   page is served: RouteTable.reaches), and elsewhere 404 exactly as for an app that does not exist, so
 *   guessing names through one host tells nothing of the apps of another.
 * - `GET /_berth/input/<app>?secret=<s>` answers the app's input JSON (an app with
 *   `input.as: url` is given this URL); a wrong or missing secret gets 403, and so
 *   does an app that does not exist or takes no input by URL, so the endpoint tells
 *   nothing to whoever lacks the secret.
 */
export function handleBerthEndpoint(req: IncomingMessage, res: ServerResponse, upstreams: UpstreamSource, routes: Pick<RouteTable, 'reaches'>, host: string): void {
  const [pathPart, query = ''] = (req.url ?? '/').split('?', 2) as [string, string?];
  const path = pathPart.slice(BERTH_PATH_PREFIX.length);
  const [verb, rawApp] = path.split('/', 2);
  const app = decodeName(rawApp);
  const read = req.method === 'GET' || req.method === 'HEAD';
  if (verb === 'input' && read && upstreams.inputFor && app !== undefined) {
    const secret = new URLSearchParams(query).get('secret') ?? '';
    const json = upstreams.inputFor(app, secret);
    if (json !== undefined) return send(req, res, 200, 'application/json', json);
    return problem(req, res, 'forbidden', `wrong or missing secret for the input of ${app}`);
  }
  const status = verb === 'status' && req.method === 'GET' && app !== undefined && routes.reaches(host, app) ? upstreams.publicStatus(app) : undefined;
  if (status) return send(req, res, 200, 'application/json', JSON.stringify({ app, ...status }));
  problem(req, res, 'not_found', `no such berth endpoint or app: ${path}`);
}

function decodeName(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined; // malformed %-escape: no app has that name
  }
}

function problem(req: IncomingMessage, res: ServerResponse, code: ErrorCode, detail: string): void {
  writeProblem(res, problemFor(code, detail), {}, req.method === 'HEAD');
}

function send(req: IncomingMessage, res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
