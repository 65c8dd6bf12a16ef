import { Option } from 'commander';
import { stringify } from 'yaml';

/** How a read command prints: its table or summary, or the API's data as JSON or YAML. */
export type OutputFormat = 'text' | 'json' | 'yaml';

/** The `-o, --output` option every read command takes. */
export function outputOption(): Option {
  return new Option('-o, --output <format>', 'print json or yaml instead of text').choices(['text', 'json', 'yaml']).default('text');
}

/** Prints `data` as JSON or YAML when asked to; returns false when the caller should print text. */
export function printData(format: OutputFormat | undefined, data: unknown): boolean {
  if (format === 'json') {
    out(JSON.stringify(data, null, 2));
    return true;
  }
  if (format === 'yaml') {
    process.stdout.write(stringify(data));
    return true;
  }
  return false;
}

/** A line of the command's result, on stdout. */
export function out(line = ''): void {
  process.stdout.write(line + '\n');
}

/** Progress, hints and warnings: on stderr, so stdout stays what the command produced. */
export function note(line: string): void {
  process.stderr.write(line + '\n');
}
