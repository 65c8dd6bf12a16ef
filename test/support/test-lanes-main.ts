// `node dist/test/support/test-lanes-main.js TARGET...` (scripts/test.sh): one line per test
// file the targets name, `engine FILE` or `free FILE` (see test-lanes.ts).
import { laneLines } from './test-lanes.js';

for (const line of laneLines(process.argv.slice(2))) process.stdout.write(`${line}\n`);
