// The proxy worker's entry (what WorkerPool forks): its signals are ignored before the worker's
// modules load (early-signals.ts), a load during which a Ctrl-C or SIGUSR1 got Node's default.
import '../early-signals.js';

// A worker's stderr (inherited) gone or full is no reason to end it and its connections (as cli/main.ts).
process.stderr.on('error', () => {});

await import('./worker-main.js');
