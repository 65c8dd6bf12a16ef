import { createRequire } from 'node:module';
import { Option } from 'commander';
import { BerthError, exitCodeOf, messageOf } from '../errors.js';

/**
 * The YAML library, loaded by the first `-o yaml` and not at the start of every berth
 * command: loading it is ~0.3 s of a run on a busy machine, for output few runs ask for.
 * require(), not import(): printing stays synchronous (yaml's node entry is CommonJS).
 */
const requireLazily = createRequire(import.meta.url);
function yamlText(data: unknown): string {
  return (requireLazily('yaml') as typeof import('yaml')).stringify(data);
}

/** How a read command prints: its table or summary, or the API's data as JSON or YAML. */
export type OutputFormat = 'text' | 'json' | 'yaml';

/** The `-o, --output` option every read command takes. */
export function outputOption(): Option {
  return new Option('-o, --output <format>', 'print json or yaml instead of text').choices(['text', 'json', 'yaml']).default('text');
}

/**
 * The json or yaml format the words of a command line ask for (`-o json`,
 * `-ojson`, `--output json`, `--output=json`), read without Commander: for a
 * usage mistake, which Commander reports before it has parsed the options.
 * The last one given wins, as it does for Commander; nothing past `--` counts.
 */
export function outputFormatOf(args: readonly string[]): OutputFormat | undefined {
  let format: OutputFormat | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') break;
    let value: string | undefined;
    if (arg === '-o' || arg === '--output') value = args[++i];
    else if (arg.startsWith('--output=')) value = arg.slice('--output='.length);
    else if (arg.startsWith('-o') && !arg.startsWith('--')) value = arg.slice(2);
    else continue;
    format = value === 'json' || value === 'yaml' ? value : value === 'text' ? undefined : format;
  }
  return format;
}

/** Prints `data` as JSON or YAML when asked to; returns false when the caller should print text. */
export function printData(format: OutputFormat | undefined, data: unknown): boolean {
  if (format === 'json') {
    out(JSON.stringify(data, null, 2));
    return true;
  }
  if (format === 'yaml') {
    process.stdout.write(yamlText(data));
    return true;
  }
  return false;
}

/**
 * The code of a CLI failure that is no BerthError: a bug of the CLI itself, or a failure
 * it did not plan for. Such a failure exits 1 ("generic"); naming it `internal`, as the
 * JSON document did, claimed the catalogue entry of a server's 500, whose exit is 6.
 */
export const UNEXPECTED_CODE = 'unexpected';

/** What `-o json|yaml` prints on stdout for a failure: its code and exit code as the process ends with them. Pure. */
export function failureDocument(err: unknown): { error: { code: string; exit: number; message: string } } {
  return { error: { code: err instanceof BerthError ? err.code : UNEXPECTED_CODE, exit: exitCodeOf(err), message: messageOf(err) } };
}

/** A line of the command's result, on stdout. */
export function out(line = ''): void {
  process.stdout.write(line + '\n');
}

/** Progress, hints and warnings: on stderr, so stdout stays what the command produced. */
export function note(line: string): void {
  process.stderr.write(line + '\n');
}

/** How the CLI ends once writing to stdout failed: its exit code, and the line to print on stderr, if any. */
export interface OutputFailure {
  exitCode: number;
  line?: string;
}

/**
 * The end of a command whose stdout failed. A reader that left early (`berth ls | head -1`:
 * EPIPE) had what it wanted: no error, the usual status. Anything else (a full disk,
 * `> /dev/full`; an I/O error) lost output a script relied on: one line, not Node's stack
 * of an unhandled 'error' event, and the generic exit code. Pure.
 */
export function outputFailure(err: NodeJS.ErrnoException): OutputFailure {
  if (err.code === 'EPIPE') return { exitCode: 0 };
  // Node says "ENOSPC: no space left on device, write": the reason, then the code once.
  const reason = err.message.replace(/^[A-Z0-9_]+: /, '').replace(/, write$/, '');
  return { exitCode: exitCodeOf(err), line: `berth: cannot write the output: ${reason}${err.code ? ` (${err.code})` : ''}` };
}
