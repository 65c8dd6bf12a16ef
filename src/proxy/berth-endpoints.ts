import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UpstreamSource } from './upstream.js';
import { BERTH_PATH_PREFIX } from './waiting-page.js';

/**
 * berth's public endpoints on the proxy listener, used by the waiting page:
 * `GET /_berth/status/<app>` tells whether the app is ready or why it failed.
 * It reveals no more than a request to the app would.
 */
export function handleBerthEndpoint(req: IncomingMessage, res: ServerResponse, upstreams: UpstreamSource): void {
  const path = (req.url ?? '/').split('?', 1)[0]!.slice(BERTH_PATH_PREFIX.length);
  const [verb, rawApp] = path.split('/', 2);
  const app = rawApp ? decodeURIComponent(rawApp) : '';
  const status = verb === 'status' && req.method === 'GET' ? upstreams.publicStatus(app) : undefined;
  const body = status ? JSON.stringify({ app, ...status }) : JSON.stringify({ status: 404, code: 'not_found', detail: `no such berth endpoint or app: ${path}` });
  res.writeHead(status ? 200 : 404, {
    'content-type': status ? 'application/json' : 'application/problem+json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}
