/**
 * Spec bytes that are not UTF-8 text (a file saved as Latin-1, a binary given to
 * `-f` by mistake) are refused where they come in, saying where the first bad byte
 * is. They were decoded leniently: every invalid byte became U+FFFD and the spec was
 * applied with a value other than the one written.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseJsonBody } from '../../src/api/body.js';
import type { ApiContext } from '../../src/api/route-def.js';
import { specsFromBody } from '../../src/api/spec-body.js';
import { readSources } from '../../src/cli/commands/apply-sources.js';
import { loadConfig } from '../../src/config/load-config.js';
import { BadRequestError, ConfigError, SpecError } from '../../src/errors.js';
import { specText } from '../../src/spec/utf8-text.js';

const SPEC = 'apiVersion: berth/v1\nname: web\nimage: berth-test/app:1\nport: 8080\nenv: {A: "';
/** A spec whose env value is Latin-1 "é" (0xE9), at line 5, column 11. */
const LATIN1 = Buffer.concat([Buffer.from(SPEC), Buffer.from([0xe9]), Buffer.from('"}\n')]);

describe('specText: bytes to spec text', () => {
  const cases: Array<[string, Buffer, string | RegExp]> = [
    ['ASCII', Buffer.from('a: 1\n'), 'a: 1\n'],
    ['two-, three- and four-byte characters', Buffer.from('é€😀'), 'é€😀'],
    ['a U+FFFD written as such', Buffer.from('\uFFFD'), '\uFFFD'],
    ['a Latin-1 byte', LATIN1, /^not UTF-8 text: byte 0xE9 at line 5, column 11 /],
    ['a sequence cut short at the end', Buffer.from([0x61, 0xe2, 0x82]), /byte 0xE2 at line 1, column 2/],
    ['an overlong "/"', Buffer.from([0x0a, 0xc0, 0xaf]), /byte 0xC0 at line 2, column 1/],
    ['an overlong three-byte form', Buffer.from([0xe0, 0x80, 0xaf]), /byte 0xE0 at line 1, column 1/],
    ['a UTF-16 surrogate', Buffer.from([0x61, 0x62, 0xed, 0xa0, 0x80]), /byte 0xED at line 1, column 3/],
    ['past U+10FFFF', Buffer.from([0xf4, 0x90, 0x80, 0x80]), /byte 0xF4 at line 1, column 1/],
    ['a lone continuation byte', Buffer.from([0x80]), /byte 0x80 at line 1, column 1/],
    ['a NUL byte (a binary file)', Buffer.from('\x7fELF\x02\x01\x01\x00'), /^binary, not YAML or JSON text: a NUL byte at line 1, column 8$/],
  ];
  for (const [what, bytes, expected] of cases) {
    it(what, () => {
      const decoded = specText(bytes);
      if (typeof expected === 'string') assert.deepEqual(decoded, { ok: true, text: expected });
      else {
        assert.equal(decoded.ok, false, `${what} is refused`);
        assert.match((decoded as { message: string }).message, expected);
      }
    });
  }
});

describe('where spec bytes come in', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-spec-bytes-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('berth apply -f names the file and the line', async () => {
    const path = join(dir, 'latin1.yaml');
    await writeFile(path, LATIN1);
    await assert.rejects(readSources([path]), (err: unknown) => err instanceof BadRequestError && err.message.startsWith(`${path}: not UTF-8 text: byte 0xE9 at line 5, column 11`));
  });

  it('berth apply -f refuses a binary file in one line', async () => {
    const path = join(dir, 'app.png');
    await writeFile(path, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d]));
    await assert.rejects(readSources([path]), (err: unknown) => err instanceof BadRequestError && err.message === `${path}: binary, not YAML or JSON text: a NUL byte at line 3, column 1`);
  });

  it('POST /v1/apps answers 400 and names the request body', async () => {
    const ctx = { body: async () => LATIN1 } as unknown as ApiContext;
    await assert.rejects(specsFromBody(ctx), (err: unknown) => err instanceof BadRequestError && /^the request body is not UTF-8 text: byte 0xE9 at line 5, column 11/.test(err.message));
  });

  it('JSON bodies (tokens, scale, cntSpawner) answer 400 too', () => {
    const body = Buffer.concat([Buffer.from('{"name": "'), Buffer.from([0xff]), Buffer.from('"}')]);
    assert.throws(() => parseJsonBody(body), (err: unknown) => err instanceof BadRequestError && /^the request body is not UTF-8 text: byte 0xFF at line 1, column 11/.test(err.message));
  });

  it('the gateway config and its spec files are refused, naming the file', async () => {
    await mkdir(join(dir, 'apps'));
    await writeFile(join(dir, 'apps', 'web.yaml'), LATIN1);
    const config = join(dir, 'berth.yaml');
    await writeFile(config, 'store: ./berth.db\napps: [./apps/]\n');
    await assert.rejects(loadConfig(config), (err: unknown) => err instanceof SpecError && err.problems.some((p) => p.path === join('apps', 'web.yaml') && /^not UTF-8 text: byte 0xE9 at line 5, column 11/.test(p.message)));
    await writeFile(config, Buffer.concat([Buffer.from('store: ./berth'), Buffer.from([0xe9]), Buffer.from('.db\n')]));
    await assert.rejects(loadConfig(config), (err: unknown) => err instanceof ConfigError && /is not UTF-8 text: byte 0xE9 at line 1, column 15/.test(err.message));
  });
});
