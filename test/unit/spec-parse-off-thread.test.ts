import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load-config.js';
import { BerthError, SpecError, httpStatusOf } from '../../src/errors.js';
import { MAX_LISTED_PROBLEMS, parseSpecText } from '../../src/spec/parse.js';
import { INLINE_PARSE_BYTES, parseSpecTextOffThread } from '../../src/spec/parse-off-thread.js';
import { exhaustDescriptors } from '../support/fd-exhaust.js';

/** A JSON array of `n` valid specs. */
const batch = (n: number) =>
  JSON.stringify(Array.from({ length: n }, (_, i) => ({ apiVersion: 'berth/v1', name: `a${i}`, image: 'x/y:1', port: 8080, env: { A: 'b', S: { secret: 'x' } }, routes: [{ host: `a${i}.example.com` }, { path: `/p${i}/` }] })));

describe('spec request bodies: a large one is read off the event loop (a 1 MiB body held every proxied request for 25 s)', () => {
  // First in the file: the thread is started by the first large read (and kept a while after it).
  it('answers 503 overloaded, not a 500, when the gateway is out of descriptors for the thread; reads again once it is not', async () => {
    const text = batch(200);
    const shortage = exhaustDescriptors();
    let refused: unknown;
    try {
      refused = await parseSpecTextOffThread(text, 'request body').then(() => undefined, (err: unknown) => err);
    } finally {
      shortage.release();
    }
    // Before, Node's "Worker initialization failure: EMFILE" went out as an internal error.
    assert.ok(refused instanceof BerthError, String(refused));
    assert.equal(refused.code, 'overloaded');
    assert.equal(httpStatusOf(refused), 503);
    assert.equal(refused.retryAfterS, 1);
    assert.match(refused.message, /out of file descriptors/);
    assert.deepEqual(await parseSpecTextOffThread(text, 'request body'), parseSpecText(text, 'request body'));
  });

  it('gives what the inline read gives, for a body past the inline bound', async () => {
    const text = batch(200);
    assert.ok(text.length > INLINE_PARSE_BYTES);
    assert.deepEqual(await parseSpecTextOffThread(text, 'request body'), parseSpecText(text, 'request body'));
  });

  it('lets the event loop turn while it reads (a timer set before it fires before its answer)', async () => {
    let turned = false;
    setTimeout(() => (turned = true), 0);
    await parseSpecTextOffThread(batch(200), 'request body');
    assert.equal(turned, true);
  });

  it('refuses with the same SpecError, its problems bounded', async () => {
    const text = '- a\n'.repeat(INLINE_PARSE_BYTES / 2);
    await assert.rejects(parseSpecTextOffThread(text, 'request body'), (err: unknown) => {
      assert.ok(err instanceof SpecError, String(err));
      assert.equal(err.problems.length, MAX_LISTED_PROBLEMS + 1);
      assert.deepEqual(err.problems[0], { path: '[0]', message: 'must be a mapping of fields (an app spec) (line 1)' });
      assert.deepEqual(err.problems.at(-1), { path: '(more)', message: `${INLINE_PARSE_BYTES / 2 - MAX_LISTED_PROBLEMS} more problems not listed; fix these first` });
      assert.match(err.message, /^request body: \[0\]: must be a mapping/);
      return true;
    });
  });

  it('reads a small body inline, and refuses it the same way', async () => {
    assert.equal((await parseSpecTextOffThread(batch(1), 'x'))[0]?.name, 'a0');
    await assert.rejects(parseSpecTextOffThread('name: 1', 'x'), (err: unknown) => err instanceof SpecError && /^x: /.test(err.message));
  });

  it('reads a large spec file of the config the same way (a reload happens while the proxy serves)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-large-spec-'));
    try {
      await mkdir(join(dir, 'apps'));
      const text = batch(200);
      assert.ok(text.length > INLINE_PARSE_BYTES);
      await writeFile(join(dir, 'apps', 'many.json'), text);
      await writeFile(join(dir, 'bad.json'), '- a\n'.repeat(INLINE_PARSE_BYTES / 2));
      await writeFile(join(dir, 'berth.yaml'), 'apps: [./apps/]\n');
      assert.equal((await loadConfig(join(dir, 'berth.yaml'))).apps.length, 200);
      await writeFile(join(dir, 'berth.yaml'), 'apps: [./apps/, ./bad.json]\n');
      await assert.rejects(loadConfig(join(dir, 'berth.yaml')), (err: unknown) => err instanceof SpecError && /^bad\.json, document 1: .*\(line 1\)/.test(err.problems[0]!.path + ': ' + err.problems[0]!.message));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
