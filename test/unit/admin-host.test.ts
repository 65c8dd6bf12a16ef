import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adminHostAllowed, adminHostNames, hostNameOf } from '../../src/api/admin-host.js';
import { parseAdminTarget } from '../../src/api/request-target.js';

describe('hostNameOf', () => {
  const cases: Array<[string, string | undefined]> = [
    ['localhost', 'localhost'],
    ['LocalHost:8081', 'localhost'],
    ['127.0.0.1:8081', '127.0.0.1'],
    ['[::1]:8081', '::1'],
    ['[::1]', '::1'],
    ['admin.example.com.', 'admin.example.com'],
    ['admin.example.com.:443', 'admin.example.com'],
    ['::1', undefined],
    ['[::1', undefined],
    ['[zz]:1', undefined],
    ['[::1]x', undefined],
    ['host:port', undefined],
    ['host:123456', undefined],
    ['a b', undefined],
    ['evil.com/x', undefined],
    ['user@host', undefined],
    ['', undefined],
    [':8081', undefined],
    ['<script>', undefined],
    ['a"b', undefined],
    ['a,b', undefined],
    ['é.example', undefined],
    ['a{b}:80', undefined],
    ['a|b', undefined],
  ];
  for (const [header, expected] of cases) it(`${JSON.stringify(header)} → ${expected ?? 'malformed'}`, () => assert.equal(hostNameOf(header), expected));
});

describe('adminHostAllowed', () => {
  const loopback = adminHostNames('127.0.0.1');
  const wildcard = adminHostNames('0.0.0.0');
  const named = adminHostNames('0.0.0.0', ['berth.example.com', 'Ops.Example.com.']);
  const bound = adminHostNames('10.0.0.5');
  const cases: Array<[string, ReadonlySet<string>, string | undefined, boolean]> = [
    ['loopback name', loopback, 'localhost:8081', true],
    ['loopback v4', loopback, '127.0.0.1:8081', true],
    ['loopback v6', loopback, '[::1]:8081', true],
    ['no port', loopback, 'localhost', true],
    ['rebinding name', loopback, 'evil.example.com:8081', false],
    ['missing Host', loopback, undefined, false],
    ['empty Host', loopback, '', false],
    ['wildcard bind: loopback still', wildcard, 'localhost:8081', true],
    ['wildcard bind: the wildcard is no name', wildcard, '0.0.0.0:8081', false],
    ['wildcard bind: other names refused', wildcard, 'berth.example.com', false],
    ['configured name', named, 'berth.example.com:8081', true],
    ['configured name, case and dot', named, 'OPS.example.com.', true],
    ['bind address', bound, '10.0.0.5:8081', true],
    ['another address', bound, '10.0.0.6:8081', false],
  ];
  for (const [what, allowed, header, expected] of cases) it(`${what}: ${expected ? 'answered' : 'refused'}`, () => assert.equal(adminHostAllowed(header, allowed), expected));
});

describe('parseAdminTarget', () => {
  const cases: Array<[string, { path: string; query?: string; authority?: string } | RegExp]> = [
    ['/v1/apps', { path: '/v1/apps' }],
    ['/v1/apps?limit=5&x=%20', { path: '/v1/apps', query: 'limit=5&x=+' }],
    ['/v1/apps/a%2Fb', { path: '/v1/apps/a%2Fb' }],
    ['/', { path: '/' }],
    ['http://127.0.0.1:8081/v1/apps?x=1', { path: '/v1/apps', query: 'x=1', authority: '127.0.0.1:8081' }],
    ['HTTP://localhost', { path: '/', authority: 'localhost' }],
    ['//%zz', /"\/\/"/],
    ['//evil.com/v1/apps', /"\/\/"/],
    ['/v1/%zz', /hex escape/],
    ['/v1/apps?x=%', /hex escape/],
    ['/v1/apps#frag', /fragment/],
    ['http://[bad', /malformed host/],
    ['http://exa mple/', /percent-encoded/],
    ['http://', /host/],
    ['http://user@host/', /user info/],
    ['ftp://host/x', /absolute http/],
    ['*', /absolute http/],
    ['v1/apps', /absolute http/],
    ['/v1/\x00', /percent-encoded/],
    ['/v1/ä', /percent-encoded/],
    ['/v1/{x}', /percent-encoded/],
  ];
  for (const [target, expected] of cases) {
    it(`${JSON.stringify(target)}`, () => {
      const got = parseAdminTarget(target);
      if (expected instanceof RegExp) {
        assert.equal(got.ok, false);
        if (!got.ok) assert.match(got.message, expected);
        return;
      }
      assert.ok(got.ok, got.ok ? '' : got.message);
      assert.equal(got.path, expected.path);
      assert.equal(got.query.toString(), expected.query ?? '');
      assert.equal(got.authority, expected.authority);
    });
  }
});
