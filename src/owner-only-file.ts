import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';

/**
 * Writes `text` to a new file, owner-only from its creation, and renames it over `file`.
 * Written in place, a file of that name left with a looser mode (a wiped store's, a copy)
 * would take the secret into an inode a local user may already hold open: chmod afterwards
 * does not take back a descriptor. The draft's name is random and it is created exclusively
 * (O_EXCL: a link or a leftover file of that name is never written through), synced before
 * the rename so a crash leaves either the old file or the whole new one, and removed when
 * anything fails, so no half-written copy of the secret stays behind.
 */
export async function writeOwnerOnly(file: string, text: string): Promise<void> {
  const draft = `${file}.${randomBytes(6).toString('hex')}.new`;
  try {
    const handle = await open(draft, 'wx', 0o600);
    try {
      // A umask may only take bits away from 0600; this makes it exactly 0600 (readable by the owner again).
      await handle.chmod(0o600);
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(draft, file);
  } catch (err) {
    await unlink(draft).catch(() => undefined);
    throw err;
  }
}
