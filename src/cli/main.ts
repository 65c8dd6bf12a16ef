// First: Node's default for SIGUSR1 (the inspector) must not apply while the rest loads (early-signals.ts).
import '../early-signals.js';
import { Command, CommanderError } from 'commander';
import { ERROR_CATALOGUE, exitCodeOf, messageOf } from '../errors.js';
import { VERSION } from '../version.js';
import { applyCommand } from './commands/apply.js';
import { configureCommand } from './commands/configure.js';
import { deleteCommand } from './commands/delete.js';
import { getCommand } from './commands/get.js';
import { historyCommand } from './commands/history.js';
import { lifecycleCommands } from './commands/lifecycle.js';
import { logsCommand } from './commands/logs.js';
import { lsCommand } from './commands/ls.js';
import { tokenCommand } from './commands/token.js';
import { scrubbedArgs } from './argv-scrub.js';
import { unreadableAnswer } from './api-errors.js';
import { usageCommand } from './commands/usage.js';
import { gatewaysCommand } from './commands/gateways.js';
import { versionCommand } from './commands/version.js';
import { scaleCommand } from './commands/scale.js';
import { storeCommand } from './commands/store.js';
import { PromptInterrupted } from './prompt.js';
import { closestName } from '../spec/suggest.js';
import { failureDocument, outputFailure, outputFormatOf, printData, type OutputFormat } from './output.js';
import { serveCommand } from './serve.js';
import { shownText } from './terminal-text.js';

/**
 * The `berth` command. Every failure ends here: one clear line on stderr and
 * the exit code of the error's catalogue entry (2 usage or spec, 3 not found,
 * 4 conflict, 5 auth, 6 server or unreachable).
 */
const program = new Command()
  .name('berth')
  .description('On-demand container gateway: starts web apps in Docker on their first request and stops them when idle.')
  .version(VERSION, '-v, --version')
  .option('--url <url>', 'admin API URL (default: BERTH_URL, the saved settings, or http://127.0.0.1:8081)')
  .option('--token <token>', 'API token (default: BERTH_TOKEN or the saved settings)');

program.addCommand(serveCommand());
program.addCommand(applyCommand());
program.addCommand(lsCommand());
program.addCommand(getCommand());
program.addCommand(deleteCommand());
for (const command of lifecycleCommands()) program.addCommand(command);
program.addCommand(scaleCommand());
program.addCommand(logsCommand());
program.addCommand(historyCommand());
program.addCommand(usageCommand());
program.addCommand(tokenCommand());
program.addCommand(configureCommand());
program.addCommand(storeCommand());
program.addCommand(gatewaysCommand());
program.addCommand(versionCommand());

/**
 * `berth help [command...]`, in place of Commander's: for a name that is no command
 * (`berth help bogus`) Commander printed the whole help on stderr with exit 2 and never
 * said what was wrong. Now that is a usage mistake like `berth bogus`, one line naming it;
 * a known path (`berth help token ls`) prints that command's help.
 */
program.helpCommand(false);
program.addCommand(
  new Command('help')
    .description('display help for a command')
    .argument('[command...]', 'the command, e.g. token ls')
    .action((words: string[]) => {
      let target: Command = program;
      for (const word of words) {
        const next = target.commands.find((c) => c.name() === word || c.aliases().includes(word));
        if (!next) target.error(unknownCommandLine(word, target), { exitCode: ERROR_CATALOGUE.bad_request.exit, code: 'commander.unknownCommand' });
        target = next;
      }
      target.help();
    }),
);

/**
 * `berth help lss` says what `berth lss` says: the name, and the closest command when one is
 * near enough to be a typo (it named only the name, leaving the user to guess). Pure.
 */
export function unknownCommandLine(word: string, parent: Pick<Command, 'commands'>): string {
  const names = parent.commands.flatMap((c) => [c.name(), ...c.aliases()]).filter((name) => name !== 'help');
  const closest = closestName(word, names);
  return `unknown command '${word}'${closest ? ` (Did you mean ${closest}?)` : ''}`;
}

/** The usage mistake Commander reported (an unknown option, a bad value, a missing argument), as printed. */
let usageMistake: string | undefined;

/**
 * Commands added whole do not inherit these settings, so every one gets them.
 * A usage error is one line too, with where to read more.
 */
function configureAll(command: Command, path: string[] = []): void {
  const help = `berth ${[...path, '--help'].join(' ')}`;
  command.exitOverride().configureOutput({
    // Commander puts its suggestion on a line of its own ("\n(Did you mean ls?)"): joined, so a failure stays one line.
    outputError: (text, write) => {
      usageMistake = `${text.replace(/^error: /, '').trimEnd().replace(/\s*\n\s*/g, ' ')} (see '${help}')`;
      write(`berth: ${usageMistake}\n`);
    },
  });
  for (const sub of command.commands) configureAll(sub, [...path, sub.name()]);
}
configureAll(program);

/** Ends the process once stdout failed (see outputFailure): `berth ls | head` quietly, `berth ls > /dev/full` with one line. */
function endOnOutputFailure(err: NodeJS.ErrnoException): never {
  const failure = outputFailure(err);
  if (failure.line) process.stderr.write(`${failure.line}\n`);
  process.exit(failure.exitCode);
}
process.stdout.on('error', endOnOutputFailure);
// stderr is where the last words go: when it cannot be written (a supervisor closed the pipe, a full disk)
// there is nowhere left to say so, and a gateway must not end over its banner or a signal's note.
process.stderr.on('error', () => {});

/**
 * Exits with `code`, unless a command that succeeded lost its output: a file's stdout fails
 * its write at once, and the 'error' event that says so comes after an exit here (`--help`).
 */
function exit(code: number): never {
  const failed = process.stdout.errored as NodeJS.ErrnoException | null;
  if (code === 0 && failed) endOnOutputFailure(failed);
  process.exit(code);
}

/** The format the command being run prints in (its -o), known once its options are parsed. */
let format: OutputFormat | undefined;
/** Whether the command being run reads the admin API's answers: all but the gateway itself and `store copy`. */
let readsApi = false;
program.hook('preAction', (_program, action) => {
  format = action.opts<{ output?: OutputFormat }>().output;
  readsApi = action.name() !== 'serve' && action.parent?.name() !== 'store';
});

// Before anything else runs for long (a `logs -f` runs for hours): ps shows the token as ***.
const shown = scrubbedArgs(process.argv);
if (shown) process.title = shown.join(' ');

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // A usage mistake happens before the command's options are known, so its -o is read from the words themselves:
    // a script that asked for JSON reads a document on stdout whichever way the command failed.
    // A usage mistake is a bad_request, whose exit code the catalogue says, as for every other error.
    const usageExit = ERROR_CATALOGUE.bad_request.exit;
    if (usageMistake !== undefined) printData(outputFormatOf(process.argv.slice(2)), { error: { code: 'bad_request', exit: usageExit, message: usageMistake } });
    exit(err.exitCode === 0 ? 0 : usageExit);
  }
  // Ctrl-C at a question: the line is ended; the shell's status for it, as a Ctrl-C while waiting has (progress.ts).
  if (err instanceof PromptInterrupted) exit(130);
  const failure = readsApi ? unreadableAnswer(err) : err;
  // The last guard of the one-line promise: a message that quotes what a server, the engine or an app said
  // (most pass it through printable() already) shows its control characters, never acts on them.
  console.error(`berth: ${shownText(messageOf(failure))}`);
  // Asked for JSON or YAML, a script reads stdout as such even when the command failed: it had nothing there.
  printData(format, failureDocument(failure));
  exit(exitCodeOf(failure));
}
