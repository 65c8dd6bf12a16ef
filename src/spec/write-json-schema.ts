/**
 * Writes the app spec JSON Schema to the file named by the first argument, e.g.
 * `node dist/src/spec/write-json-schema.js schema/berth-app.schema.json`. Run by
 * the build, so the schema shipped in the package always matches the code.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { appSpecJsonSchema } from './json-schema.js';

const target = process.argv[2];
if (!target) {
  process.stderr.write('usage: write-json-schema <output.json>\n');
  process.exit(2);
}
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, `${JSON.stringify(appSpecJsonSchema(), null, 2)}\n`);
