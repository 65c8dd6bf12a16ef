// A file that cannot be read is named once, with the reason in words (no errno jargon).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fsReason } from '../../src/fs-reason.js';
import { loadConfig } from '../../src/config/load-config.js';

const errno = (code: string) => Object.assign(new Error(`${code}: something, open '/x'`), { code });

test('fsReason turns errno codes into words', () => {
  const table: Array<[unknown, string]> = [
    [errno('ENOENT'), 'no such file'],
    [errno('EACCES'), 'permission denied'],
    [errno('EPERM'), 'permission denied'],
    [errno('ELOOP'), 'too many symbolic links'],
    [errno('EISDIR'), 'it is a directory'],
    [errno('ENOSPC'), 'the disk is full'],
    [errno('EROFS'), 'the file system is read-only'],
    [errno('EIO'), 'EIO'],
    [new Error('no code'), 'unreadable'],
    [undefined, 'unreadable'],
  ];
  for (const [err, words] of table) assert.equal(fsReason(err), words);
});

test('a missing or directory config is one line naming the file once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-fs-reason-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'berth.yaml');
  await assert.rejects(loadConfig(file), (err: Error) => {
    assert.equal(err.message, `cannot read config ${file}: no such file`);
    return true;
  });
  await assert.rejects(loadConfig(dir), (err: Error) => {
    assert.equal(err.message, `cannot read config ${dir}: it is a directory`);
    return true;
  });
});
