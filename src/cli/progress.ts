/**
 * Progress of a long operation: `hello: starting…` on stderr, the outcome on
 * stdout. When both are the same terminal they share one line
 * (`hello: starting… ready in 612 ms`); otherwise each is a whole line, so a
 * log or a pipe reads cleanly.
 */
export class Progress {
  constructor(private readonly sameLine = Boolean(process.stderr.isTTY && process.stdout.isTTY)) {}

  begin(subject: string, doing: string): void {
    process.stderr.write(this.sameLine ? `${subject}: ${doing}… ` : `${subject}: ${doing}…\n`);
  }

  done(subject: string, outcome: string): void {
    process.stdout.write(this.sameLine ? `${outcome}\n` : `${subject}: ${outcome}\n`);
  }

  /** Ends the line begun; the reason is the command's error line. */
  failed(): void {
    if (this.sameLine) process.stderr.write('failed\n');
  }
}
