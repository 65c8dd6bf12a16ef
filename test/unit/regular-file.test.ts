// The bounded read of a regular file that certificate and secret files share.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { constants, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRegularFile, type IrregularFile } from '../../src/regular-file.js';

let root = '';
before(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'berth-regular-file-'));
  await fs.writeFile(join(root, 'small'), 'héllo');
  await fs.writeFile(join(root, 'exact'), 'x'.repeat(16));
  await fs.writeFile(join(root, 'big'), 'x'.repeat(17));
  await fs.mkdir(join(root, 'dir'));
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function read(path: string, max = 16): Promise<string | IrregularFile> {
  const handle = await fs.open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    return await readRegularFile(handle, max);
  } finally {
    await handle.close();
  }
}

describe('readRegularFile', () => {
  const cases: Array<{ name: string; path: () => string; want: string | IrregularFile }> = [
    { name: 'a small file: its text, UTF-8', path: () => join(root, 'small'), want: 'héllo' },
    { name: 'a file of exactly the bound', path: () => join(root, 'exact'), want: 'x'.repeat(16) },
    { name: 'one byte over the bound: its size', path: () => join(root, 'big'), want: { refused: 'too-large', size: 17 } },
    { name: 'a directory', path: () => join(root, 'dir'), want: { refused: 'not-regular', directory: true } },
    { name: 'a device', path: () => '/dev/zero', want: { refused: 'not-regular', directory: false } },
  ];
  for (const c of cases) it(c.name, async () => assert.deepEqual(await read(c.path()), c.want));
});
