// The proxy worker's entry (what WorkerPool forks): its signals are ignored before the worker's
// modules load (early-signals.ts), a load during which a Ctrl-C or SIGUSR1 got Node's default.
import '../early-signals.js';

await import('./worker-main.js');
