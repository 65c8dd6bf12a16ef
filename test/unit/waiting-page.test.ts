import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { runInNewContext } from 'node:vm';
import type { ServerResponse } from 'node:http';
import { buildConfig } from '../../src/config/load-config.js';
import { SpecError } from '../../src/errors.js';
import { parseSpecObject } from '../../src/spec/parse.js';
import { sendWaitingPage, type WaitingPageInput } from '../../src/proxy/waiting-page.js';

/** Renders the page into a string through a minimal ServerResponse stand-in. */
function render(input: WaitingPageInput, method = 'GET'): { status: number; headers: Record<string, unknown>; body: string; sent: number } {
  const out = { status: 0, headers: {} as Record<string, unknown>, body: '', sent: 0 };
  const res = {
    writeHead(status: number, headers: Record<string, unknown>) {
      out.status = status;
      out.headers = headers;
    },
    end(body: string) {
      out.body = body;
    },
    req: { method },
  } as unknown as ServerResponse;
  out.sent = sendWaitingPage(res, input);
  return out;
}

test('the operator\'s HTML is inserted as it is; spec text is escaped; the page still polls and reloads', () => {
  const page = render({ app: 'web', bodyHtml: '<p class="brand">Our <b>lab</b> is waking up</p>' });
  assert.equal(page.status, 503);
  assert.ok(page.body.includes('<div id="body-html"><p class="brand">Our <b>lab</b> is waking up</p></div>'));
  assert.ok(!page.body.includes('This app was asleep'), 'the default sentence gives way to the operator\'s body');
  assert.match(page.body, /_berth\/status\/web/);
  assert.match(page.body, /location\.reload\(\)/);
  assert.match(page.body, /http-equiv="refresh"/);
  const both = render({ app: 'web', message: '<b>not html</b>', bodyHtml: '<i>x</i>' });
  assert.ok(both.body.includes('&#60;b&#62;not html&#60;/b&#62;'), 'a message is text, escaped');
  assert.ok(both.body.includes('<i>x</i>'));
  assert.ok(render({ app: 'web' }).body.includes('This app was asleep'), 'without either, the default sentence');
});

test('it answers the body bytes it sent, for the history: none to a HEAD', () => {
  const page = render({ app: 'wéb' });
  assert.equal(page.sent, Buffer.byteLength(page.body));
  assert.equal(page.headers['content-length'], page.sent);
  assert.equal(render({ app: 'web' }, 'HEAD').sent, 0);
});

test('waitingPage.html is a gateway config field; a spec cannot set it', async () => {
  const config = await buildConfig({ waitingPage: { html: '<p>hi</p>' } }, tmpdir());
  assert.equal(config.waitingPage.html, '<p>hi</p>');
  assert.throws(
    () => parseSpecObject({ apiVersion: 'berth/v1', name: 'a', image: 'berth-test/app:latest', port: 8080, waitingPage: { html: '<script>x</script>' } }),
    (err: unknown) => err instanceof SpecError && err.problems.some((p) => p.path.startsWith('waitingPage')),
  );
});

test('the page polls the status endpoint under the prefix a proxy in front mounts berth at', () => {
  /** The URL the page's script polls first, run with the browser's path `pathname`. */
  const firstPoll = (path: string, pathname: string): string => {
    const script = /<script>([\s\S]*)<\/script>/.exec(render({ app: 'wéb', path }).body)![1]!;
    let polled = '';
    const context = {
      location: { pathname, reload: () => undefined },
      fetch: (url: string) => ((polled = url), new Promise(() => undefined)),
      setTimeout: (fn: () => void) => fn(),
      Math,
      document: {},
    };
    runInNewContext(script, context);
    return polled;
  };
  const status = '/_berth/status/w%C3%A9b';
  assert.equal(firstPoll('/session/web/a/b', '/session/web/a/b'), status);
  assert.equal(firstPoll('/session/web/a/b', '/berth/session/web/a/b'), `/berth${status}`);
  assert.equal(firstPoll('/session/web/', '/mnt/berth/session/web/'), `/mnt/berth${status}`);
  assert.equal(firstPoll('/', '/berth/'), `/berth${status}`);
  assert.equal(firstPoll('/', '/'), status);
  // berth merged the empty segment the browser still shows.
  assert.equal(firstPoll('/session/web/a', '/berth//session/web/a'), `/berth${status}`);
});
