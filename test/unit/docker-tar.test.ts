import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ancestors, inputFileArchive } from '../../src/runtime/docker/input.js';
import { tarArchive, tarChecksum, tarHeader } from '../../src/runtime/docker/tar.js';

const MTIME = new Date('2024-05-01T12:00:00Z');

/** Runs GNU tar on an archive written to a temp file. */
function withTar<T>(archive: Buffer, fn: (file: string, dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'berth-tar-'));
  try {
    const file = join(dir, 'a.tar');
    writeFileSync(file, archive);
    return fn(file, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('tar writer', () => {
  it('writes one header block, the content padded to 512, and two zero blocks', () => {
    const tar = tarArchive([{ name: 'input.json', type: 'file', mode: 0o444, content: '{"a":1}' }], { mtime: MTIME });
    assert.equal(tar.length, 512 + 512 + 1024);
    assert.equal(tar.subarray(0, 10).toString(), 'input.json');
    assert.equal(tar.subarray(512, 519).toString(), '{"a":1}');
    assert.ok(tar.subarray(519).every((b) => b === 0));
  });

  it('stores mode, size, type, magic and a checksum tar agrees with', () => {
    const header = tarHeader({ name: 'run/berth/input.json', type: 'file', mode: 0o444 }, 1234, 1_700_000_000);
    assert.equal(header.length, 512);
    assert.equal(header.toString('ascii', 100, 107), '0000444');
    assert.equal(parseInt(header.toString('ascii', 124, 135), 8), 1234);
    assert.equal(header.toString('ascii', 156, 157), '0');
    assert.equal(header.toString('ascii', 257, 263), 'ustar\0');
    assert.equal(header.toString('ascii', 263, 265), '00');
    // Six octal digits, NUL, space; equal to the byte sum with the field read as spaces.
    const field = header.toString('ascii', 148, 156);
    assert.match(field, /^[0-7]{6}\0 $/);
    assert.equal(parseInt(field.slice(0, 6), 8), tarChecksum(header));
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!;
    assert.equal(parseInt(field.slice(0, 6), 8), sum);
  });

  it('marks directories with type 5 and a trailing slash', () => {
    const header = tarHeader({ name: 'run', type: 'dir', mode: 0o755 }, 0, 0);
    assert.equal(header.toString('ascii', 0, 4), 'run/');
    assert.equal(header.toString('ascii', 156, 157), '5');
  });

  it('is read back by GNU tar: names, modes, owners, sizes', () => {
    const tar = tarArchive(
      [
        { name: 'run', type: 'dir', mode: 0o755 },
        { name: 'run/berth', type: 'dir', mode: 0o755 },
        { name: 'run/berth/input.json', type: 'file', mode: 0o444, content: '{"hello":"wörld"}' },
      ],
      { mtime: MTIME },
    );
    const listing = withTar(tar, (file) => execFileSync('tar', ['--numeric-owner', '-tvf', file], { encoding: 'utf8' }));
    const lines = listing.trim().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0]!, /^drwxr-xr-x 0\/0\s+0 \d{4}-\d\d-\d\d \d\d:\d\d run\/$/);
    assert.match(lines[1]!, /^drwxr-xr-x 0\/0\s+0 .* run\/berth\/$/);
    assert.match(lines[2]!, /^-r--r--r-- 0\/0\s+18 .* run\/berth\/input\.json$/);
  });

  it('extracts to the exact content and mode', () => {
    const json = JSON.stringify({ list: Array.from({ length: 300 }, (_, i) => i), text: 'ünïcödé' });
    const tar = inputFileArchive('/run/berth/input.json', '/', json, MTIME);
    withTar(tar, (file, dir) => {
      const out = join(dir, 'out');
      execFileSync('mkdir', [out]);
      execFileSync('tar', ['-xf', file, '-C', out]);
      const path = join(out, 'run/berth/input.json');
      assert.equal(readFileSync(path, 'utf8'), json);
      assert.equal(statSync(path).mode & 0o777, 0o444);
      assert.equal(statSync(join(out, 'run/berth')).mode & 0o777, 0o755);
    });
  });

  it('splits long paths into ustar prefix and name', () => {
    const long = `${'d'.repeat(80)}/${'e'.repeat(60)}/input.json`;
    const tar = tarArchive([{ name: long, type: 'file', mode: 0o444, content: 'x' }]);
    const listing = withTar(tar, (file) => execFileSync('tar', ['-tf', file], { encoding: 'utf8' }));
    assert.equal(listing.trim(), long);
    assert.throws(() => tarArchive([{ name: 'x'.repeat(300), type: 'file', mode: 0o444 }]), /too long/);
  });
});

describe('input file archive', () => {
  it('tries the deepest directory first, up to /', () => {
    assert.deepEqual(ancestors('/run/berth/input.json'), ['/run/berth', '/run', '/']);
    assert.deepEqual(ancestors('/input.json'), ['/']);
  });

  it('creates only the directories below the base it is extracted at', () => {
    const names = (base: string) =>
      withTar(inputFileArchive('/run/berth/input.json', base, '{}', MTIME), (file) => execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim().split('\n'));
    assert.deepEqual(names('/run/berth'), ['input.json']);
    assert.deepEqual(names('/run'), ['berth/', 'berth/input.json']);
    assert.deepEqual(names('/'), ['run/', 'run/berth/', 'run/berth/input.json']);
  });
});
