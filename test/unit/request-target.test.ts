import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeRequest } from '../../src/proxy/request-target.js';
import { normalizePath } from '../../src/proxy/request-path.js';
import { normalizeHost } from '../../src/proxy/request-host.js';


/** [target, expected path+query, or the status of the refusal] with `Host: a.example`. */
const targets: Array<[target: string, expected: string | 400]> = [
  // valid, untouched
  ['/', '/'],
  ['/a/b/c', '/a/b/c'],
  ['/a/b/', '/a/b/'],
  ['/a/file.tar.gz', '/a/file.tar.gz'],
  ['/a?x=1&y=%zz', '/a?x=1&y=%zz'],
  ['/a:b@c!$&\'()*+,;=', '/a:b@c!$&\'()*+,;='],
  ['/~user/-_.', '/~user/-_.'],
  // dot segments
  ['/a/./b', '/a/b'],
  ['/a/../b', '/b'],
  ['/a/b/..', '/a/'],
  ['/a/b/.', '/a/b/'],
  ['/..', '/'],
  ['/../../etc/passwd', '/etc/passwd'],
  ['/session/a/../../_berth/status/x', '/_berth/status/x'],
  ['/a/.hidden/..b', '/a/.hidden/..b'],
  ['/a/...', '/a/...'],
  ['/a/..?q=../x', '/?q=../x'],
  // encoded dots
  ['/a/%2e%2e/b', '/b'],
  ['/a/%2E%2E/b', '/b'],
  ['/a/.%2e/b', '/b'],
  ['/a/%2e/b', '/a/b'],
  ['/session/x/%2e%2e/%2e%2e/admin', '/admin'],
  // merged slashes
  ['//a//b', '/a/b'],
  ['/a//../b', '/b'],
  // unreserved decoded, reserved kept (upper-cased hex)
  ['/%41%62%2D%5F%7E', '/Ab-_~'],
  ['/a%2Fb', '/a%2Fb'],
  ['/a%2fb', '/a%2Fb'],
  ['/a/..%2F..%2Fetc', '/a/..%2F..%2Fetc'],
  ['/%2e%2e%2f', '/..%2F'],
  ['/a%5Cb', '/a%5Cb'],
  ['/a%3fb', '/a%3Fb'],
  ['/a%25', '/a%25'],
  ['/a%0Ab', '/a%0Ab'],
  ['/%C3%A9t%C3%A9', '/%C3%A9t%C3%A9'],
  ['/%F0%9F%98%80', '/%F0%9F%98%80'],
  // characters RFC 3986 does not allow raw are escaped
  ['/a|b{c}', '/a%7Cb%7Bc%7D'],
  ['/a"<b>^`', '/a%22%3Cb%3E%5E%60'],
  // bad escapes
  ['/a%zz', 400],
  ['/a%4', 400],
  ['/a%', 400],
  ['/a%g0', 400],
  // bad UTF-8 once decoded
  ['/%C3', 400],
  ['/%FF', 400],
  ['/%C0%AF', 400],
  ['/%ED%A0%80', 400],
  ['/%E9t%E9', 400],
  // NUL, backslash, controls
  ['/a%00b', 400],
  ['/a%00', 400],
  ['/a\\b', 400],
  ['/a/..\\..\\admin', 400],
  ['/a\tb', 400],
  ['/a\u00e9', 400],
  // fragments are dropped
  ['/a#frag', '/a'],
  ['/a?q=1#frag', '/a?q=1'],
  ['/a/../b#x?y', '/b'],
  ['/#', '/'],
  // absolute-form
  ['http://a.example/x/../y?q', '/y?q'],
  ['HTTP://a.example', '/'],
  ['https://a.example?q=1', '/?q=1'],
  ['http://a.example#f', '/'],
  ['ftp://a.example/x', 400],
  ['ws://a.example/x', 400],
  ['http://user:pw@a.example/', 400],
  ['http://@a.example/', 400],
  ['http:///x', 400],
  ['http://a_b!/x', 400],
  ['http://b.example/x', 400], // Host (a.example) names another host
  // asterisk-form, authority-form, relative
  ['*', 400],
  ['a.example:443', 400],
  ['a/b', 400],
  ['', 400],
];

for (const [target, expected] of targets) {
  test(`target ${JSON.stringify(target)} → ${expected}`, () => {
    const result = normalizeRequest(target, 'a.example', 1, true);
    if (expected === 400) {
      assert.ok('status' in result, `expected a refusal, got ${JSON.stringify(result)}`);
      assert.equal(result.status, 400);
      assert.ok(result.reason.length > 0);
    } else {
      assert.ok(!('status' in result), `expected ${expected}, got ${JSON.stringify(result)}`);
      assert.equal(result.path + result.query, expected);
    }
  });
}

/** [Host value, matching host, upstream authority] or 400. */
const hosts: Array<[host: string, expected: [host: string, authority: string] | 400]> = [
  ['a.example', ['a.example', 'a.example']],
  ['A.Example.COM', ['a.example.com', 'a.example.com']],
  ['a.example.', ['a.example', 'a.example']],
  ['A.EXAMPLE.:8080', ['a.example', 'a.example:8080']],
  ['a.example:80', ['a.example', 'a.example:80']],
  ['localhost', ['localhost', 'localhost']],
  ['my_host-1', ['my_host-1', 'my_host-1']],
  ['127.0.0.1:8080', ['127.0.0.1', '127.0.0.1:8080']],
  ['[::1]', ['[::1]', '[::1]']],
  ['[::1]:8080', ['[::1]', '[::1]:8080']],
  ['[2001:DB8::1]:443', ['[2001:db8::1]', '[2001:db8::1]:443']],
  ['', 400],
  ['.', 400],
  ['a.example..', 400],
  ['a..example', 400],
  ['.a.example', 400],
  ['a example', 400],
  ['a/b', 400],
  ['a@b', 400],
  ['a.example:', 400],
  ['a.example:80a', 400],
  ['a.example:123456', 400],
  ['a.example:65536', 400],
  ['a.example:8080:1', 400],
  ['a%2eexample', 400],
  ['a,b', 400],
  ['[::1', 400],
  ['[zz::1]', 400],
  ['[fe80::1%25eth0]', 400],
  ['[::1]x', 400],
  ['::1', 400],
  ['\u00e9.example', 400],
  ['a'.repeat(254), 400],
];

for (const [host, expected] of hosts) {
  test(`Host ${JSON.stringify(host.length > 40 ? host.slice(0, 20) + '…' : host)} → ${JSON.stringify(expected)}`, () => {
    const result = normalizeRequest('/p', host, 1, true);
    if (expected === 400) {
      assert.ok('status' in result, `expected a refusal, got ${JSON.stringify(result)}`);
      assert.equal(result.status, 400);
    } else {
      assert.ok(!('status' in result), `expected ${JSON.stringify(expected)}, got ${JSON.stringify(result)}`);
      assert.deepEqual([result.host, result.authority], expected);
    }
  });
}

test('Host must be present on HTTP/1.1 and single; HTTP/1.0 may go without', () => {
  const missing = normalizeRequest('/', undefined, 0, true);
  assert.ok('status' in missing && /no Host/.test(missing.reason));
  const twice = normalizeRequest('/', 'a.example', 2, true);
  assert.ok('status' in twice && /more than one Host/.test(twice.reason));
  const twiceOld = normalizeRequest('/', 'a.example', 2, false);
  assert.ok('status' in twiceOld);
  const old = normalizeRequest('/x', undefined, 0, false);
  assert.deepEqual(old, { host: '', authority: '', path: '/x', query: '' });
});

test("an absolute-form target's authority is sent; Host must be valid and name the same host", () => {
  const result = normalizeRequest('http://B.example:81/p', 'b.example.', 1, true);
  assert.deepEqual(result, { host: 'b.example', authority: 'b.example:81', path: '/p', query: '' });
  const other = normalizeRequest('http://b.example/p', 'a.example', 1, true);
  assert.ok('status' in other && other.status === 400, 'a Host naming another host is refused');
  const badHost = normalizeRequest('http://b.example/p', 'bad host', 1, true);
  assert.ok('status' in badHost);
  const noHost = normalizeRequest('http://b.example/p', undefined, 0, true);
  assert.ok('status' in noHost, 'HTTP/1.1 needs Host even with an absolute-form target');
});

test('the fast path returns the very string it was given', () => {
  const raw = '/session/app/static/main.js';
  assert.equal(normalizePath(raw), raw);
});

test('normalizeHost and normalizePath refuse with a reason naming the problem', () => {
  const path = normalizePath('/a%zz');
  assert.ok(typeof path !== 'string' && /percent-encoding/.test(path.reason));
  const nul = normalizePath('/a%00');
  assert.ok(typeof nul !== 'string' && /NUL/.test(nul.reason));
  const slash = normalizePath('/a\\b');
  assert.ok(typeof slash !== 'string' && /backslash/.test(slash.reason));
  const utf = normalizePath('/%FF');
  assert.ok(typeof utf !== 'string' && /UTF-8/.test(utf.reason));
  const host = normalizeHost('');
  assert.ok('status' in host && /empty/.test(host.reason));
});

/** A small seeded generator, so a failure can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const PIECES = ['/', '//', '.', '..', '%2e', '%2E%2e', '%2f', '%5c', '%', '%4', '%zz', '%00', '%C3%A9', '%C3', '%ff', 'a', 'Z', '~', '-', '_', '?', '#', '\\', '|', ':', '@', ';', '%41', '%7e', ' ', '\u00e9'];

test('normalised paths are stable, never throw, and hold no dot segment, empty segment or escaped unreserved character (2000 random paths)', () => {
  const random = prng(9);
  let accepted = 0;
  for (let n = 0; n < 2000; n++) {
    let target = '/';
    const length = 1 + Math.floor(random() * 12);
    for (let i = 0; i < length; i++) target += PIECES[Math.floor(random() * PIECES.length)];
    const result = normalizeRequest(target, 'a.example', 1, true);
    if ('status' in result) {
      assert.equal(result.status, 400, target);
      continue;
    }
    accepted++;
    const { path } = result;
    assert.ok(path.startsWith('/'), target);
    assert.ok(!/\/\.\.?(\/|$)/.test(path), `dot segment left in ${path} from ${target}`);
    assert.ok(!path.includes('//'), `empty segment left in ${path} from ${target}`);
    assert.ok(!/%(2[dD]|2[eE]|5[fF]|7[eE]|[46][1-9a-fA-F]|[57][0-9aA]|3[0-9])/.test(path), `escaped unreserved left in ${path} from ${target}`);
    assert.ok(!/[#\s\\]/.test(path), `fragment, space or backslash left in ${path} from ${target}`);
    assert.ok(!result.query.includes('#'), `fragment left in ${result.query} from ${target}`);
    assert.equal(normalizePath(path), path, `not idempotent: ${target} → ${path}`);
    assert.doesNotThrow(() => decodeURIComponent(path), `${path} from ${target}`);
  }
  assert.ok(accepted > 200, `only ${accepted} of the random paths were accepted: the generator tests too little`);
});

test('normalizeHost answers a Host seen just before as it did the first time, and an empty or bad one is still refused', () => {
  for (let round = 0; round < 2; round++) {
    assert.deepEqual(normalizeHost('A.Example:8080'), { host: 'a.example', authority: 'a.example:8080' });
    assert.deepEqual(normalizeHost('A.Example:8080'), { host: 'a.example', authority: 'a.example:8080' });
    assert.equal('status' in normalizeHost(''), true);
    assert.equal('status' in normalizeHost('a..example'), true);
    assert.equal('status' in normalizeHost('a..example'), true);
    assert.deepEqual(normalizeHost('b.example.'), { host: 'b.example', authority: 'b.example' });
    assert.deepEqual(normalizeHost('[::1]:80'), { host: '[::1]', authority: '[::1]:80' });
  }
});
