// Usage mistakes at the CLI end in one line on stderr and exit 2, like every failure:
// Commander's suggestion ("(Did you mean ls?)") was a second line. (A URL with a
// password in it, printed back by every error line, is refused: cli-pure.test.ts.)
// With -o json (or yaml), a failure left stdout empty, which no JSON reader takes:
// it now holds {"error": {code, exit, message}} too.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { berth, cliEnv } from '../support/berth-cli.js';

// Each case is a process of its own: they run side by side.
describe('berth usage mistakes', { concurrency: true }, () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['a misspelt command', ['lss'], /^berth: unknown command 'lss' \(Did you mean ls\?\) \(see 'berth --help'\)$/],
    // `help` with a misspelt name said only that it was unknown: the same suggestion as without `help`.
    ['help with a misspelt command', ['help', 'lss'], /^berth: unknown command 'lss' \(Did you mean ls\?\) \(see 'berth --help'\)$/],
    ['help with a misspelt subcommand', ['help', 'token', 'lss'], /^berth: unknown command 'lss' \(Did you mean ls\?\) \(see 'berth token --help'\)$/],
    ['a misspelt option', ['ls', '--outptu', 'json'], /^berth: unknown option '--outptu' \(Did you mean --output\?\) \(see 'berth ls --help'\)$/],
  ];
  for (const [what, args, said] of cases) {
    it(`${what}: exit 2, one line`, async () => {
      const run = await berth(args, cliEnv({ NO_COLOR: '1', HOME: '/nonexistent' }));
      assert.equal(run.code, 2, run.stderr);
      assert.equal(run.stdout, '');
      const lines = run.stderr.split('\n');
      assert.equal(lines.length, 2, `one line: ${JSON.stringify(run.stderr)}`);
      assert.match(lines[0]!, said);
    });
  }
});

describe('berth -o json|yaml when the command fails', () => {
  it('prints the error as a document on stdout, the one line on stderr, and exits with its code', async (t) => {
    const server = createServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ type: 'urn:berth:not_found', title: 'Not found', status: 404, code: 'not_found', detail: 'no app named nope' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => server.close());
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const env = cliEnv({ NO_COLOR: '1', HOME: '/nonexistent' });
    const cases: Array<[string[], (text: string) => unknown, string, number]> = [
      [['get', 'nope', '-o', 'json', '--url', url, '--token', 'berth_x'], JSON.parse, 'not_found', 3],
      [['ls', '-o', 'yaml', '--url', 'http://127.0.0.1:1', '--token', 'berth_x'], parse, 'upstream_unavailable', 6],
    ];
    // As text, stdout stays empty on a failure: cli-hostile-server.test.ts.
    const runs = await Promise.all(cases.map(([args]) => berth(args, env)));
    for (const [i, [args, read, code, exit]] of cases.entries()) {
      const run = runs[i]!;
      assert.equal(run.code, exit, run.stderr);
      const doc = read(run.stdout) as { error: { code: string; exit: number; message: string } };
      assert.equal(doc.error.code, code, args.join(' '));
      assert.equal(doc.error.exit, exit);
      assert.equal(run.stderr, `berth: ${doc.error.message}\n`, 'the same one line on stderr');
    }
  });
});

// A usage mistake (a bad option value, an unknown option, an argument too many or missing)
// with -o json left stdout empty: Commander reports it before the command's -o is parsed.
// The README promises a document on stdout for every failure once -o json|yaml is given.
describe('berth -o json|yaml on a usage mistake', { concurrency: true }, () => {
  const cases: Array<[string[], (text: string) => unknown, RegExp]> = [
    [['history', 'web', '--limit', '0', '-o', 'json'], JSON.parse, /^option '--limit <n>' argument '0' is invalid.* \(see 'berth history --help'\)$/],
    [['ls', 'extra', '--output=yaml'], parse, /^too many arguments for 'ls'/],
    [['gateways', '-ojson', '--bogus'], JSON.parse, /^unknown option '--bogus'/],
    [['token', 'create', '--output', 'yaml'], parse, /^missing required argument 'name'/],
  ];
  for (const [args, read, said] of cases) {
    it(`${args.join(' ')}: the error as a document on stdout, exit 2`, async () => {
      const run = await berth(args, cliEnv({ NO_COLOR: '1', HOME: '/nonexistent' }));
      assert.equal(run.code, 2, run.stderr);
      const doc = read(run.stdout) as { error: { code: string; exit: number; message: string } };
      assert.equal(doc.error.code, 'bad_request');
      assert.equal(doc.error.exit, 2);
      assert.match(doc.error.message, said);
      assert.equal(run.stderr, `berth: ${doc.error.message}\n`, 'the same one line on stderr');
    });
  }
  it('as text (no -o, -o text, or -o past --) stdout stays empty', async () => {
    const runs = await Promise.all([['ls', '--bogus'], ['ls', '--bogus', '-o', 'text'], ['ls', '--', '-o', 'json']].map((args) => berth(args, cliEnv({ NO_COLOR: '1', HOME: '/nonexistent' }))));
    for (const run of runs) {
      assert.equal(run.code, 2, run.stderr);
      assert.equal(run.stdout, '');
    }
  });
});
