/**
 * Image patterns of the gateway policy, e.g. `registry.example.com/team/*`. `*`
 * stays within one path component and `**` crosses them, so `team/*` does not
 * quietly allow `team/other-team/app`. An image written without tag or digest is
 * what Docker runs as `:latest`, so it also matches a pattern naming `:latest`.
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
  const regexp = patternToRegExp(pattern);
  return regexp.test(image) || (!hasTagOrDigest(image) && regexp.test(`${image}:latest`));
}
