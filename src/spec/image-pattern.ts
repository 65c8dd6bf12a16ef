/**
 * Image patterns of the gateway policy, e.g. `registry.example.com/team/*`. `*`
 * stays within one path component and `**` crosses them, so `team/*` does not
 * quietly allow `team/other-team/app`. An image written without tag or digest is
 * what Docker runs as `:latest`, so it also matches a pattern naming `:latest`
 * (and a pattern without a tag matches the image's `:latest`); Docker Hub's names
 * match with or without `docker.io/` (spellings below).
 */
import { readAsImageId } from './image-reference.js';

function patternToRegExp(pattern: string): RegExp {
  const source = pattern
    .split('**')
    .map((part) => part.split('*').map(escape).join('[^/]*'))
    .join('.*');
  return new RegExp(`^${source}$`);
}

function escape(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

function hasTagOrDigest(image: string): boolean {
  const lastComponent = image.slice(image.lastIndexOf('/') + 1);
  return lastComponent.includes(':') || lastComponent.includes('@');
}

export function imageMatches(pattern: string, image: string): boolean {
  // A spec stored before such references were refused must not pass either: the
  // engine may run any local image for it, whatever the pattern allows (image-reference.ts).
  if (readAsImageId(image)) return false;
  const images = imageSpellings(image);
  return patternSpellings(pattern).some((form) => {
    const regexp = patternToRegExp(form);
    return images.some((name) => regexp.test(name));
  });
}

const HUB = /^(?:index\.)?docker\.io\//;

/** Docker's rule: the first of several components names a registry when it has a dot or a port, or is localhost. */
function namesRegistry(reference: string): boolean {
  const slash = reference.indexOf('/');
  if (slash < 0) return false;
  const first = reference.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost';
}

/** A Docker Hub reference as the engine reads it: `nginx` is `docker.io/library/nginx`, `team/app` is `docker.io/team/app`. */
function fullHubName(reference: string): string | undefined {
  if (HUB.test(reference)) return reference.replace(HUB, 'docker.io/');
  if (namesRegistry(reference)) return undefined;
  return reference.includes('/') ? `docker.io/${reference}` : `docker.io/library/${reference}`;
}

/** With `:latest` added to the forms that name no tag or digest (and whose last component is literal). */
function withLatest(forms: Set<string>): string[] {
  for (const form of [...forms]) {
    const last = form.slice(form.lastIndexOf('/') + 1);
    if (!hasTagOrDigest(form) && !last.includes('*')) forms.add(`${form}:latest`);
  }
  return [...forms];
}

/**
 * The ways of writing one image that the engine reads as the same: with or without
 * `:latest` (when no tag or digest is given), and Docker Hub's with or without its
 * registry name and `library/` (`docker.io/library/nginx`, `library/nginx` and
 * `nginx` are one image). Without them a policy written in one spelling refused
 * specs written in another: `nginx` did not allow `nginx:latest`, nor
 * `docker.io/library/nginx:*` allow `nginx:1`.
 */
function imageSpellings(image: string): string[] {
  const full = fullHubName(image);
  const forms = new Set([image]);
  if (full !== undefined) {
    const path = full.slice('docker.io/'.length);
    forms.add(full).add(path).add(path.replace(/^library\/(?=[^/]+$)/, ''));
  }
  return withLatest(forms);
}

/**
 * A pattern's spellings only ever add what Docker adds (its registry name, `library/`,
 * `:latest`), never take a part away: with `docker.io/` cut off, `docker.io/**` read
 * as `**` and allowed every image of every registry. A pattern whose first component
 * is a wildcard is left as written (it may stand for a registry).
 */
function patternSpellings(pattern: string): string[] {
  const forms = new Set([pattern]);
  const first = pattern.split('/', 1)[0]!;
  if (!first.includes('*')) {
    const full = fullHubName(pattern);
    if (full !== undefined) forms.add(full);
  }
  return withLatest(forms);
}
