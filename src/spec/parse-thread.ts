// Entry point of the thread that reads large spec texts (parse-off-thread.ts):
// each message is one text; parseSpecText's answer, or its SpecError's problems, is posted back;
// or a config file's text, read as YAML with the line of each field (config-text.ts).
import { parentPort } from 'node:worker_threads';
import { SpecError } from '../errors.js';
import { parseSpecText } from './parse.js';
import { lineTable, readConfigText } from '../config/config-text.js';
import type { ParseThreadRequest, ParseThreadReply } from './parse-off-thread.js';

parentPort!.on('message', ({ text, source, config }: ParseThreadRequest) => {
  let reply: ParseThreadReply;
  try {
    if (config) {
      const read = readConfigText(text);
      reply = { ok: true, config: read, lines: read.ok ? lineTable(text, read.raw) : [] };
    } else reply = { ok: true, specs: parseSpecText(text, source) };
  } catch (err) {
    reply = err instanceof SpecError ? { ok: false, problems: err.problems } : { ok: false, message: (err as Error).message };
  }
  parentPort!.postMessage(reply);
});
