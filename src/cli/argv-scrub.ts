/**
 * A command line is readable by every user of the host for as long as the process runs
 * (`ps`, /proc/PID/cmdline): `berth logs -f --token …` would show the admin token all
 * day. As curl does with `-u user:password`, berth rewrites what the process shows once
 * it has read its arguments: the token, and the password of a `--to` store URL, become
 * `***`. (The moment before the rewrite is unavoidable; BERTH_TOKEN and BERTH_STORE
 * keep them off the command line altogether.)
 */

const MASK = '***';

/** The arguments as the process may show them, or undefined when none holds a secret. */
export function scrubbedArgs(args: readonly string[]): string[] | undefined {
  const out = [...args];
  let changed = false;
  for (let i = 0; i < out.length; i++) {
    const arg = out[i]!;
    if (arg === '--') break; // what follows is not an option
    const [name, inline] = splitOption(arg);
    const scrub = SECRET_OPTIONS[name];
    if (!scrub) continue;
    if (inline !== undefined) {
      const shown = scrub(inline);
      if (shown !== inline) [out[i], changed] = [`${name}=${shown}`, true];
    } else if (i + 1 < out.length) {
      const shown = scrub(out[i + 1]!);
      if (shown !== out[i + 1]) [out[i + 1], changed] = [shown, true];
      i++;
    }
  }
  return changed ? out : undefined;
}

/** The options whose values carry a secret, and how each value is shown. */
const SECRET_OPTIONS: Record<string, (value: string) => string> = {
  '--token': (value) => (value === '' ? value : MASK),
  '--to': withoutPassword,
};

function splitOption(arg: string): [string, string | undefined] {
  const eq = arg.indexOf('=');
  return arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
}

/** A URL with its password masked; anything else (no password, not a URL) as it is. */
function withoutPassword(value: string): string {
  const match = /^([a-z][a-z0-9+.-]*:\/\/[^/?#@:]*:)([^/?#@]*)(@.*)$/i.exec(value);
  return match && match[2] !== '' ? `${match[1]}${MASK}${match[3]}` : value;
}
