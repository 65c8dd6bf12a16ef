import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { appSpec } from '../support/spec-fixture.js';

let dir = '';
before(async () => {
  // A directory others may read, as /var/lib often is: the file itself must still be owner-only.
  dir = await fs.mkdtemp(join(tmpdir(), 'berth-store-mode-'));
  await fs.chmod(dir, 0o755);
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function modeOf(path: string): Promise<number> {
  return (await fs.stat(path)).mode & 0o777;
}

describe('store file permissions (the store holds secret literals)', () => {
  it('a new store file and its WAL are readable by their owner only', async () => {
    const path = join(dir, 'new.db');
    const store = new SqliteStore({ path });
    await store.open();
    try {
      await store.applyApps([appSpec('hello', { env: { P: { secret: 'x' } } })], 'api');
      assert.equal(await modeOf(path), 0o600);
      assert.equal(await modeOf(`${path}-wal`), 0o600);
    } finally {
      await store.close();
    }
  });

  it('an existing store readable by others is narrowed to 0600', async () => {
    const path = join(dir, 'old.db');
    const first = new SqliteStore({ path });
    await first.open();
    await first.close();
    await fs.chmod(path, 0o644);
    const again = new SqliteStore({ path });
    await again.open();
    try {
      assert.equal(await modeOf(path), 0o600);
    } finally {
      await again.close();
    }
  });
});
