import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allowScript, BOOT_SCRIPT_TAG, inlineScript } from './inline-script.js';

/**
 * The dashboard's static files live in `src/ui/static/` and are served from
 * there as they are: tsc copies no HTML, CSS or plain JS into `dist/`, and no
 * build step may (package.json is not ours to change). This module runs
 * compiled from `dist/src/ui/`, or from `src/ui/` under a TypeScript loader, so
 * both places are tried and the first holding `index.html` wins.
 */
const CANDIDATES = ['./static/', '../../../src/ui/static/'];

export function findStaticDir(from: string = import.meta.url): string | undefined {
  for (const candidate of CANDIDATES) {
    const dir = fileURLToPath(new URL(candidate, from));
    if (existsSync(resolve(dir, 'index.html'))) return dir;
  }
  return undefined;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

/**
 * The page may load and fetch only from this origin: no inline script (but the
 * page's boot script, which the page is served with by its hash) or style, no
 * outside assets, and no framing (the dashboard holds a token).
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/**
 * A fallback for the admin listener: `GET /` is the dashboard's page, `/ui/…`
 * its assets. Answers nothing else (returns false), so the API keeps its own
 * 401 and 404 for every other path. The page itself holds no data: it asks the
 * admin API for everything, with the token the user signs in with.
 */
export function dashboardHandler(staticDir: string | undefined = findStaticDir()): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const pathname = pathnameOf(req.url ?? '/');
    if (pathname === undefined) return false;
    const file = pathname === '/' || pathname === '/ui' || pathname === '/ui/' ? 'index.html' : pathname.startsWith('/ui/') ? pathname.slice(4) : undefined;
    if (file === undefined) return false;
    if (!staticDir) {
      sendText(res, 503, 'the dashboard files are missing from this installation (src/ui/static/)\n');
      return true;
    }
    const path = staticPath(staticDir, file);
    if (!path) {
      sendText(res, 404, 'not found\n');
      return true;
    }
    // Nothing should escape sendFile; if something does, it ends this exchange only.
    sendFile(req, res, path, file === 'index.html').catch(() => res.destroy());
    return true;
  };
}

/** The path of a request target; undefined when it does not parse (the API then answers 400/404). */
function pathnameOf(target: string): string | undefined {
  try {
    return new URL(target, 'http://admin.invalid').pathname;
  } catch {
    return undefined;
  }
}

/**
 * The file under `dir` that `relative` names, or undefined for anything that
 * could leave it: encoded or literal `..`, backslashes, NUL, dot files, and
 * types the dashboard does not use.
 */
export function staticPath(dir: string, relative: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(relative);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const parts = decoded.split('/');
  if (parts.some((p) => p === '' || p.startsWith('.'))) return undefined;
  if (!(extname(decoded) in TYPES)) return undefined;
  const root = resolve(dir);
  const path = resolve(root, ...parts);
  return path.startsWith(root + sep) ? path : undefined;
}

async function sendFile(req: IncomingMessage, res: ServerResponse, path: string, isIndex: boolean): Promise<void> {
  let body: Buffer;
  let policy = CONTENT_SECURITY_POLICY;
  try {
    body = await readFile(path);
    if (isIndex) ({ body, policy } = await withBootScript(body, path));
  } catch {
    sendText(res, 404, 'not found\n');
    return;
  }
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  // The page is never cached, so a new version's asset list is always seen; assets are revalidated by ETag.
  const headers: Record<string, string> = {
    ...SECURITY_HEADERS,
    'content-security-policy': policy,
    'content-type': TYPES[extname(path)]!,
    'cache-control': isIndex ? 'no-store' : 'no-cache',
  };
  if (!isIndex) headers.etag = etag;
  if (!isIndex && req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  headers['content-length'] = String(body.length);
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * The page with boot.js in it, and the policy that runs that script and no other inline one.
 * The script that recovers from a module that failed to arrive must not be a fetch that can
 * fail itself (a dropped connection, Chromium's ERR_NETWORK_CHANGED as a container starts).
 */
async function withBootScript(page: Buffer, indexPath: string): Promise<{ body: Buffer; policy: string }> {
  let boot: string;
  try {
    boot = await readFile(resolve(indexPath, '..', 'js', 'boot.js'), 'utf8');
  } catch {
    return { body: page, policy: CONTENT_SECURITY_POLICY };
  }
  const inlined = inlineScript(page.toString('utf8'), BOOT_SCRIPT_TAG, boot);
  if (!inlined.scriptSource) return { body: page, policy: CONTENT_SECURITY_POLICY };
  return { body: Buffer.from(inlined.html, 'utf8'), policy: allowScript(CONTENT_SECURITY_POLICY, inlined.scriptSource) };
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}
