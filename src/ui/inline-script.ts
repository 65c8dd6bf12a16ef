import { createHash } from 'node:crypto';

/** The tag index.html loads the page's recovery script with; the gateway serves it in place. */
export const BOOT_SCRIPT_TAG = '<script src="/ui/js/boot.js"></script>';

export interface InlinedPage {
  html: string;
  /** The CSP source that lets exactly this script run, `'sha256-…'`; undefined when nothing was put in. */
  scriptSource?: string;
}

/**
 * The page with the script `tag` loads written into it, and the hash source a
 * `script-src` needs to run it and nothing else. Left as it is when the tag is
 * missing, or when the script holds `</script` (it would end the element early).
 */
export function inlineScript(html: string, tag: string, script: string): InlinedPage {
  const at = html.indexOf(tag);
  if (at < 0 || /<\/script/i.test(script)) return { html };
  const hash = createHash('sha256').update(script, 'utf8').digest('base64');
  return { html: `${html.slice(0, at)}<script>${script}</script>${html.slice(at + tag.length)}`, scriptSource: `'sha256-${hash}'` };
}

/** The policy with `source` added to its script-src (added as a directive when it has none). */
export function allowScript(policy: string, source: string): string {
  const directives = policy.split(';').map((d) => d.trim()).filter((d) => d !== '');
  const index = directives.findIndex((d) => d.split(/\s+/)[0] === 'script-src');
  if (index < 0) directives.push(`script-src ${source}`);
  else directives[index] = `${directives[index]} ${source}`;
  return directives.join('; ');
}
