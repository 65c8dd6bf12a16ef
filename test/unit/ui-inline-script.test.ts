// The dashboard's recovery script travels in the page (a fetch of its own could fail as
// the modules it recovers from do), and the page's policy runs it by hash and nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { allowScript, BOOT_SCRIPT_TAG, inlineScript } from '../../src/ui/inline-script.js';
import { CONTENT_SECURITY_POLICY, dashboardHandler, findStaticDir } from '../../src/ui/serve-ui.js';

const sha = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

test('inlineScript: the tag is replaced by the script, with the hash of exactly its text', () => {
  const cases: Array<{ name: string; html: string; script: string; inlined: boolean }> = [
    { name: 'the tag in a head', html: `<head>${BOOT_SCRIPT_TAG}<script type="module" src="/m.js"></script></head>`, script: 'var a = 1;', inlined: true },
    { name: 'non-ASCII text hashed as UTF-8', html: BOOT_SCRIPT_TAG, script: "var s = 'é — ✓';", inlined: true },
    { name: 'no tag: left alone', html: '<head><script src="/other.js"></script></head>', script: 'var a = 1;', inlined: false },
    { name: 'a script that would end the element early', html: BOOT_SCRIPT_TAG, script: "var s = '</script><img src=x>';", inlined: false },
    { name: 'the same, in capitals', html: BOOT_SCRIPT_TAG, script: "var s = '</SCRIPT >';", inlined: false },
  ];
  for (const c of cases) {
    const out = inlineScript(c.html, BOOT_SCRIPT_TAG, c.script);
    if (!c.inlined) {
      assert.equal(out.html, c.html, c.name);
      assert.equal(out.scriptSource, undefined, c.name);
      continue;
    }
    assert.ok(!out.html.includes(BOOT_SCRIPT_TAG), c.name);
    assert.ok(out.html.includes(`<script>${c.script}</script>`), c.name);
    assert.equal(out.scriptSource, sha(c.script), c.name);
  }
});

test('allowScript: the source joins script-src and nothing else changes', () => {
  assert.equal(allowScript("default-src 'self'; script-src 'self'; base-uri 'none'", "'sha256-x'"), "default-src 'self'; script-src 'self' 'sha256-x'; base-uri 'none'");
  assert.equal(allowScript("default-src 'self'", "'sha256-x'"), "default-src 'self'; script-src 'sha256-x'");
  // A directive whose name only starts like script-src is another directive.
  assert.equal(allowScript("script-src-elem 'none'; script-src 'self';", "'sha256-x'"), "script-src-elem 'none'; script-src 'self' 'sha256-x'");
});

test('the served page carries boot.js in itself, and its policy runs that script and no other inline one', async () => {
  const dir = findStaticDir();
  assert.ok(dir);
  const server: Server = createServer((req, res) => {
    if (!dashboardHandler(dir)(req, res)) {
      res.writeHead(418);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const boot = await readFile(join(dir, 'js', 'boot.js'), 'utf8');
    const page = await fetch(`${url}/`);
    const html = await page.text();
    assert.ok(html.includes(`<script>${boot}</script>`), 'boot.js is in the page');
    assert.ok(!html.includes('src="/ui/js/boot.js"'), 'and not fetched on its own');
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.equal(csp, allowScript(CONTENT_SECURITY_POLICY, sha(boot)));
    assert.ok(!csp.includes("'unsafe-inline'"));
    // The module scripts still come from the origin, by src.
    assert.match(html, /<script type="module" src="\/ui\/js\/main\.js"><\/script>/);
    // HEAD: the same headers, no body.
    const head = await fetch(`${url}/`, { method: 'HEAD' });
    assert.equal(head.headers.get('content-security-policy'), csp);
    assert.equal(await head.text(), '');
    // The assets keep the policy without the hash: no inline script runs there.
    assert.equal((await fetch(`${url}/ui/app.css`)).headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
  } finally {
    server.close();
  }
});
