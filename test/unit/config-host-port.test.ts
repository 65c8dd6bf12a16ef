import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseHostPort } from '../../src/config/load-config.js';

describe('parseHostPort (listen, admin, tls.listen)', () => {
  it('takes a port only as written in decimal digits, and reads it as written', () => {
    const port = fc.oneof(fc.integer({ min: 0, max: 70_000 }).map(String), fc.constantFrom('', ' ', ' 80', '80 ', '0x50', '1e3', '8080.0', '+80', '-0', '0o17', '٨٠'));
    fc.assert(
      fc.property(fc.constantFrom('', '127.0.0.1:', '0.0.0.0:', '[::1]:', 'localhost:'), port, (host, text) => {
        let parsed: { host: string; port: number } | undefined;
        try {
          parsed = parseHostPort(host + text);
        } catch {
          parsed = undefined;
        }
        const valid = /^[0-9]{1,5}$/.test(text) && Number(text) <= 65_535;
        assert.equal(parsed !== undefined, valid, `${JSON.stringify(host + text)}: ${JSON.stringify(parsed)}`);
        if (parsed) assert.equal(parsed.port, Number(text));
      }),
      { numRuns: 300 },
    );
  });

  // A forgotten port ("127.0.0.1:") was read as port 0, a random one: the gateway listened where nobody looked.
  for (const text of ['127.0.0.1:', '', 'localhost: 80', '0x1f90', '127.0.0.1:8e3']) {
    it(`refuses ${JSON.stringify(text)}`, () => {
      assert.throws(() => parseHostPort(text), /is not host:port/);
    });
  }

  for (const [text, host, port] of [['127.0.0.1:0', '127.0.0.1', 0], ['8080', '127.0.0.1', 8080], ['[::1]:8081', '::1', 8081], ['0.0.0.0:443', '0.0.0.0', 443]] as const) {
    it(`reads ${text}`, () => {
      assert.deepEqual(parseHostPort(text), { host, port });
    });
  }
});
