import { once } from 'node:events';
import { Command, InvalidArgumentError } from 'commander';
import { brokenStreamError } from '../api-errors.js';
import { seg } from '../client.js';
import { withClient } from '../context.js';
import { TerminalText } from '../terminal-text.js';

export function logsCommand(): Command {
  return new Command('logs')
    .description("print an app's container output (several containers: each line prefixed with its container's name); with -f keep following it until Ctrl-C")
    .argument('<name>', 'app name')
    .option('-f, --follow', 'keep streaming new output')
    .option('--tail <n>', 'only the last N lines', nonNegativeInteger)
    .action(async (name: string, opts: { follow?: boolean; tail?: number }, cmd: Command) => {
      const abort = new AbortController();
      // Ctrl-C ends a follow: stop reading, leave quietly with the shell's usual 130.
      const interrupted = () => abort.abort();
      process.once('SIGINT', interrupted);
      process.once('SIGTERM', interrupted);
      try {
        await withClient(cmd, async (client) => {
          const stream = await client.stream(`/v1/apps/${seg(name)}/logs`, { query: { tail: opts.tail, follow: opts.follow }, signal: abort.signal });
          // On a terminal the app's escape sequences are shown, not obeyed; a pipe or a file gets its bytes as they are.
          const screen = process.stdout.isTTY ? new TerminalText() : undefined;
          try {
            for await (const chunk of stream) {
              if (!process.stdout.write(screen ? screen.write(chunk as Buffer) : (chunk as Buffer))) await once(process.stdout, 'drain');
            }
          } catch (err) {
            throw abort.signal.aborted ? err : brokenStreamError(err, client.baseUrl);
          } finally {
            // However it ended (the app's last line, Ctrl-C, a broken stream), the prompt comes back plain, on a line of its own.
            if (screen) process.stdout.write(screen.close());
          }
        });
      } catch (err) {
        if (!abort.signal.aborted) throw err;
      } finally {
        process.off('SIGINT', interrupted);
        process.off('SIGTERM', interrupted);
      }
      if (abort.signal.aborted) process.exitCode = 130;
    });
}

export function nonNegativeInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number');
  return n;
}
