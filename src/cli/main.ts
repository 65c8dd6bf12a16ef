import { Command, CommanderError } from 'commander';
import { exitCodeOf, messageOf } from '../errors.js';
import { VERSION } from '../version.js';
import { serveCommand } from './serve.js';

/**
 * The `berth` command. Every failure ends here: one clear line on stderr and
 * the exit code of the error's catalogue entry.
 */
const program = new Command()
  .name('berth')
  .description('On-demand container gateway: starts web apps in Docker on their first request and stops them when idle.')
  .version(VERSION, '-v, --version')
  .showHelpAfterError()
  .exitOverride();

program.addCommand(serveCommand());
program
  .command('version')
  .description('print the version')
  .action(() => console.log(VERSION));

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  console.error(`berth: ${messageOf(err)}`);
  process.exit(exitCodeOf(err));
}
