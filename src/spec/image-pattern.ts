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
  const images = spellings(image);
  return spellings(pattern).some((form) => {
    const regexp = patternToRegExp(form);
    return images.some((name) => regexp.test(name));
  });
}

/**
 * The ways of writing one reference that the engine reads as the same image: with
 * or without `:latest` (when no tag or digest is given), and Docker Hub's with or
 * without its registry name (`docker.io/library/nginx` is `nginx`). Without them a
 * policy written in one spelling refused specs written in another: `nginx` did not
 * allow `nginx:latest`, nor `docker.io/library/nginx:*` allow `nginx:1`. A pattern's
 * `*` is left alone: only what the pattern names literally gets a tag added.
 */
function spellings(reference: string): string[] {
  const short = reference.replace(/^(?:index\.)?docker\.io\/(?:library\/(?=[^/]+$))?/, '');
  const forms = new Set([reference, short]);
  for (const form of [...forms]) {
    const last = form.slice(form.lastIndexOf('/') + 1);
    if (!hasTagOrDigest(form) && !last.includes('*')) forms.add(`${form}:latest`);
  }
  return [...forms];
}
