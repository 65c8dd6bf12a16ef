import { constants } from 'node:os';

/**
 * Progress of a long operation: `hello: starting…` on stderr, the outcome on
 * stdout. When both are the same terminal they share one line
 * (`hello: starting… ready in 612 ms`); otherwise each is a whole line, so a
 * log or a pipe reads cleanly.
 */
export class Progress {
  private subject: string | undefined;
  private readonly onSignal = (signal: NodeJS.Signals) => this.interrupted(signal);

  constructor(private readonly sameLine = Boolean(process.stderr.isTTY && process.stdout.isTTY)) {}

  begin(subject: string, doing: string): void {
    // Ctrl-C while waiting (a start can take minutes) killed the process mid-line: the shell's prompt
    // then followed "hello: starting… " on the same line. Listened for before the line is written, so
    // a Ctrl-C that comes once it shows is always caught.
    this.subject = subject;
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
    process.stderr.write(this.sameLine ? `${subject}: ${doing}… ` : `${subject}: ${doing}…\n`);
  }

  done(subject: string, outcome: string): void {
    this.settled();
    process.stdout.write(this.sameLine ? `${outcome}\n` : `${subject}: ${outcome}\n`);
  }

  /** Ends the line begun; the reason is the command's error line. */
  failed(): void {
    this.settled();
    if (this.sameLine) process.stderr.write('failed\n');
  }

  private settled(): void {
    this.subject = undefined;
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }

  /** Ends the line begun and the process, with the shell's status for the signal (130 for Ctrl-C). */
  private interrupted(signal: NodeJS.Signals): void {
    process.stderr.write(this.sameLine ? 'interrupted\n' : `${this.subject}: interrupted\n`);
    process.exit(128 + constants.signals[signal]);
  }
}
