/**
 * Why a file could not be read, in a few words for an error line: the errno code
 * turned into words, without Node's "ENOENT: no such file or directory, open '…'",
 * which repeats the path the caller names already.
 */
export function fsReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ELOOP') return 'too many symbolic links';
  if (code === 'EISDIR') return 'it is a directory';
  return code ?? 'unreadable';
}
