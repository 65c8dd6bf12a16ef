/**
 * Linux refuses to start a program when one string of its arguments or environment
 * (`NAME=value` for a variable) is longer than MAX_ARG_STRLEN, 32 pages: the
 * container's init fails with "argument list too long" at every start, long after
 * the spec was accepted. So such a string is refused when the spec is.
 */

/** MAX_ARG_STRLEN on 4 KiB pages, counting the terminating NUL. */
export const MAX_EXEC_STRING_BYTES = 32 * 4096;

/** Why `text`, as one argument or `NAME=value` string, cannot reach a program; undefined when it can. */
export function execStringProblem(text: string, what: string): string | undefined {
  const bytes = Buffer.byteLength(text) + 1;
  return bytes > MAX_EXEC_STRING_BYTES ? `${what} is ${bytes - 1} bytes; Linux starts no program with one longer than ${MAX_EXEC_STRING_BYTES - 1} bytes` : undefined;
}
