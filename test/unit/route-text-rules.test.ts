import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isIpLiteral, isUnderBerthPath, reservedRouteHosts } from '../../src/spec/route-rules.js';
import { controlCharProblem } from '../../src/spec/text-rules.js';

describe('isIpLiteral', () => {
  const cases: Array<[string, boolean]> = [
    ['127.0.0.1', true],
    ['10.1.2.3', true],
    ['::1', true],
    ['[::1]', true],
    ['[2001:db8::1]', true],
    ['fe80::1', true],
    ['2130706433', true], // 127.0.0.1 as one number, as URL parsers read it
    ['0x7f.1', true],
    ['0x7f000001', true],
    ['1.2.3.4.', true],
    ['*.10.0.0.1', true],
    ['app.example.com', false],
    ['*.apps.example.com', false],
    ['1password.example.com', false],
    ['app.3com', false],
    ['localhost', false],
    ['x0x7f', false],
  ];
  for (const [host, expected] of cases) it(`${host} ${expected ? 'is' : 'is not'} an IP literal`, () => assert.equal(isIpLiteral(host), expected));
});

describe('isUnderBerthPath', () => {
  const cases: Array<[string, boolean]> = [
    ['/_berth/', true],
    ['/_berth', true],
    ['/_berth/status/', true],
    ['/%5fberth/', true],
    ['/%5Fberth/x/', true],
    ['/_%62erth/', true],
    ['/_berthday/', false],
    ['/_BERTH/', false],
    ['/', false],
    ['/session/_berth/', false],
    ['/x/', false],
  ];
  for (const [path, expected] of cases) it(`${path} ${expected ? 'is' : 'is not'} berth's`, () => assert.equal(isUnderBerthPath(path), expected));
});

describe('reservedRouteHosts', () => {
  it('holds the admin bind host, adminHosts and localhost, normalised', () => {
    assert.deepEqual([...reservedRouteHosts('127.0.0.1', ['Admin.Example.com.', '[::1]'])].sort(), ['127.0.0.1', '::1', 'admin.example.com', 'localhost']);
    assert.deepEqual([...reservedRouteHosts('berth.internal', [])].sort(), ['berth.internal', 'localhost']);
  });
});

describe('controlCharProblem', () => {
  const cases: Array<[text: string, allowTab: boolean, problem: RegExp | undefined]> = [
    ['plain text', false, undefined],
    ['ünïcödé ✓', false, undefined],
    ['a\tb', true, undefined],
    ['a\tb', false, /a tab at position 1/],
    ['line\nbreak', true, /line feed \(LF\) at position 4/],
    ['cr\r', true, /carriage return \(CR\) at position 2/],
    ['\0nul', true, /NUL at position 0/],
    ['bell\x07', true, /U\+0007/],
    ['esc\x1b[31m', true, /U\+001B/],
    ['del\x7f', true, /DEL/],
    ['', false, undefined],
  ];
  for (const [text, allowTab, problem] of cases) {
    it(`${JSON.stringify(text)} (tab ${allowTab ? 'allowed' : 'refused'})`, () => {
      const got = controlCharProblem(text, allowTab);
      if (problem) assert.match(got ?? '', problem);
      else assert.equal(got, undefined);
    });
  }
});
