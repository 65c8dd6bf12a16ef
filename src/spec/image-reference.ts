/**
 * Docker image references, by the grammar of distribution/reference (the one the
 * engine itself parses):
 *
 *   reference  := name [":" tag] ["@" digest]
 *   name       := [domain "/"] path-component ["/" path-component]*
 *   domain     := host [":" port], host a DNS name, IPv4, or [IPv6]
 *   path-comp  := [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*      (lowercase only)
 *   tag        := [\w][\w.-]{0,127}
 *   digest     := sha256:<64 hex>
 *
 * Checked even when the policy's image list is empty, so a reference the engine
 * would read differently from berth (or refuse with a confusing error) never
 * reaches it.
 */

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = '\\[[a-fA-F0-9:]+\\]';
const DOMAIN = `(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = 'sha256:[a-f0-9]{64}';
const REFERENCE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);

/** Docker's limit on the name part. */
const MAX_NAME_LENGTH = 255;

/**
 * Whether the engine may take `ref` for an image ID instead of a name: `sha256:`
 * and hex, or a bare run of hex digits (no registry, path, tag or digest), which the
 * engine looks up as a name first and then as the prefix of any local image's ID
 * (`c6` runs whatever image's ID starts with c6, whatever it is named). The policy's
 * image patterns judge names, so such a reference would let any local image past them.
 */
export function readAsImageId(ref: string): boolean {
  return /^(?:sha256:)?[a-f0-9]+$/.test(ref);
}

/** What is wrong with `ref` as a Docker image reference (the reason alone), or undefined when it is valid. */
export function imageReferenceProblem(ref: string): string | undefined {
  if (ref === '') return 'must not be empty';
  if (/[\s\0-\x1f\x7f]/.test(ref)) return 'must not contain spaces or control characters';
  const m = REFERENCE.exec(ref);
  if (!m) {
    if (ref.includes('@') && !/@sha256:[a-f0-9]{64}$/.test(ref)) return 'a digest must be "@sha256:" and 64 lowercase hex digits';
    const colon = ref.lastIndexOf(':');
    if (colon > ref.lastIndexOf('/') && ref.length - colon - 1 > 128) return 'a tag must be at most 128 characters';
    return 'the repository path must be lowercase letters and digits joined by ".", "_", "__" or "-", after an optional registry host[:port]/, and a tag letters, digits, "_", "." and "-"';
  }
  if (m[1]!.length > MAX_NAME_LENGTH) return `the repository name must be at most ${MAX_NAME_LENGTH} characters`;
  if (readAsImageId(ref)) {
    return ref.startsWith('sha256:')
      ? 'the engine reads "sha256:<hex>" as an image ID, which names no repository; name the image by repository (and tag or digest)'
      : `the engine reads a bare run of hex digits as the ID of whichever local image it begins, when no image has that name; add the tag: "${ref}:latest"`;
  }
  return undefined;
}
