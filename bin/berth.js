#!/usr/bin/env node
// The compiled CLI; `npm ci` builds it through the `prepare` script.
// Its signals first (early-signals.ts), then the CLI: while its modules load, a SIGUSR1 opened the inspector.
import '../dist/src/early-signals.js';

await import('../dist/src/cli/main.js');
