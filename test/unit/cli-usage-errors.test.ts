// Usage mistakes at the CLI end in one line on stderr and exit 2, like every failure:
// Commander's suggestion ("(Did you mean ls?)") was a second line, and a URL with a
// password in it was printed back in every error line (berth never sent it).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { berth, cliEnv } from '../support/berth-cli.js';

describe('berth usage mistakes', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['a misspelt command', ['lss'], /^berth: unknown command 'lss' \(Did you mean ls\?\) \(see 'berth --help'\)$/],
    ['a misspelt option', ['ls', '--outptu', 'json'], /^berth: unknown option '--outptu' \(Did you mean --output\?\) \(see 'berth ls --help'\)$/],
    ['a password in the URL', ['ls', '--url', 'http://admin:s3cret@127.0.0.1:1', '--token', 'berth_x'], /^berth: the URL carries a user name or password, which berth does not use: give http:\/\/127\.0\.0\.1:1 and the token/],
    ['a query in the URL', ['ls', '--url', 'http://127.0.0.1:1/?x=1', '--token', 'berth_x'], /must not have a query/],
  ];
  for (const [what, args, said] of cases) {
    it(`${what}: exit 2, one line`, async () => {
      const run = await berth(args, cliEnv({ NO_COLOR: '1', HOME: '/nonexistent' }));
      assert.equal(run.code, 2, run.stderr);
      assert.equal(run.stdout, '');
      const lines = run.stderr.split('\n');
      assert.equal(lines.length, 2, `one line: ${JSON.stringify(run.stderr)}`);
      assert.match(lines[0]!, said);
      assert.doesNotMatch(run.stderr, /s3cret/);
    });
  }
});
