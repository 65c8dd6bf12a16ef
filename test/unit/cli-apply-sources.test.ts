import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAX_BODY_BYTES } from '../../src/api/body.js';
import { readSources } from '../../src/cli/commands/apply-sources.js';
import { BadRequestError } from '../../src/errors.js';

describe('berth apply -f: reading the spec files', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-apply-sources-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const refused = (pattern: RegExp) => (err: unknown) => err instanceof BadRequestError && pattern.test(err.message);

  it('reads a file whole up to the most the gateway takes', async () => {
    const path = join(dir, 'ok.yaml');
    await writeFile(path, `# ${'x'.repeat(MAX_BODY_BYTES - 3)}\n`);
    const [source] = await readSources([path]);
    assert.equal(source?.text.length, MAX_BODY_BYTES);
  });

  it('refuses a larger file with its name and the bound, without reading on', async () => {
    const path = join(dir, 'big.yaml');
    await writeFile(path, 'x'.repeat(MAX_BODY_BYTES + 1));
    await assert.rejects(readSources([path]), refused(new RegExp(`^${path}: larger than ${MAX_BODY_BYTES} bytes`)));
  });

  it('refuses a device that never ends (it ended in "Invalid string length")', async () => {
    await assert.rejects(readSources(['/dev/zero']), refused(/^\/dev\/zero: larger than/));
  });

  it('names the file a read error is about', async () => {
    await assert.rejects(readSources(['/nonexistent/app.yaml']), refused(/^\/nonexistent\/app\.yaml: no such file or directory/));
  });
});
