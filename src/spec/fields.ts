/**
 * The field rules every spec form shares. berth/v1 documents use them directly; the
 * SWS and cntSpawner forms are mapped onto berth/v1 and checked by the same rules,
 * so a name or a route is valid or not the same way whichever form it came in.
 */
import { domainToASCII } from 'node:url';
import { z } from 'zod';
import { normalizePath } from '../proxy/request-path.js';
import { DURATION_HINT, DURATION_PATTERN, parseDuration, parseLongDuration } from './duration.js';
import { imageReferenceProblem } from './image-reference.js';
import { BERTH_PATH, isIpLiteral, isUnderBerthPath } from './route-rules.js';
import { controlCharProblem } from './text-rules.js';
import { parseSize, SIZE_HINT, SIZE_PATTERN } from './size.js';

/** RFC 1123 label: it names containers, volumes and the first label of wildcard hosts. */
export const DNS_LABEL = /^(?=.{1,63}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

// One message per field: a check that stops early ("abort") would also stop the
// document-level checks, and two messages for one slip are noise.
export const nameField = z
  .string()
  .regex(DNS_LABEL, 'must be a DNS label: 1 to 63 lowercase letters, digits and "-", starting and ending with a letter or digit');

const HOST = /^(?=.{1,253}$)(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export const hostField = z
  .string()
  .meta({ pattern: HOST.source })
  .superRefine((host, ctx) => {
    if (isIpLiteral(host)) ctx.addIssue({ code: 'custom', message: 'must be a host name, not an IP address: routes by address would claim the gateway itself' });
    else if (!HOST.test(host)) ctx.addIssue({ code: 'custom', message: `must be a host name like "app.example.com" or "*.apps.example.com", without scheme, port or path${asciiHint(host)}` });
  });

/**
 * Browsers send an internationalised name in its ASCII (punycode) form, so a route
 * written in Unicode would match no request: say what to write instead.
 */
function asciiHint(host: string): string {
  if (/^[\x00-\x7f]*$/.test(host)) return '';
  const wildcard = host.startsWith('*.') ? '*.' : '';
  const ascii = domainToASCII(host.slice(wildcard.length));
  return ascii !== '' && HOST.test(wildcard + ascii) ? `; write an internationalised name in its ASCII form: ${JSON.stringify(wildcard + ascii)}` : '';
}

/** What is wrong with a path, or undefined. `.` and `..` segments would let one prefix alias another. */
function pathProblem(path: string, notAbsolute: string): string | undefined {
  if (!path.startsWith('/')) return notAbsolute;
  if (/[\s?#\0]/.test(path)) return 'must not contain spaces, "?", "#" or NUL';
  const segments = path.split('/').slice(1);
  if (segments.slice(0, -1).includes('') || segments.some((s) => s === '.' || s === '..')) {
    return 'must not contain empty, "." or ".." segments';
  }
  return undefined;
}

/** A path field: the pattern is published for editors, the check gives one precise message. */
function pathField(notAbsolute: string) {
  return z
    .string()
    .meta({ pattern: '^/[^\\s?#]*$' })
    .superRefine((path, ctx) => {
      const message = pathProblem(path, notAbsolute);
      if (message) ctx.addIssue({ code: 'custom', message });
    });
}

export const pathPrefixField = pathField('must start with "/"').superRefine((path, ctx) => {
  if (isUnderBerthPath(path)) ctx.addIssue({ code: 'custom', message: `must not be under ${BERTH_PATH}, where berth serves its own endpoints` });
  else if (pathProblem(path, '') === undefined) {
    // Requests are routed on their normalised path (request-path.ts): a prefix spelled any other way matches none.
    const normal = normalizePath(path);
    if (typeof normal !== 'string') {
      const encoded = normalizePath(encodeURI(path));
      const hint = typeof encoded === 'string' ? `; percent-encode it: ${JSON.stringify(encoded)}` : '';
      ctx.addIssue({ code: 'custom', message: `no request can have this path (${normal.reason})${hint}` });
    }
    else if (normal !== path) ctx.addIssue({ code: 'custom', message: `would never match: requests are routed on their normalised path, so write it as ${JSON.stringify(normal)}` });
  }
});
export const absolutePathField = pathField('must be an absolute path (start with "/")');

/**
 * A readiness or health path: sent as the probe's request target, so visible ASCII
 * only (HTTP's rule; Node refuses to write anything past U+00FF). Others must be
 * percent-encoded, and the message says how.
 */
export const probePathField = z
  .string()
  .meta({ pattern: '^/[\\x21-\\x7e]*$' })
  .superRefine((path, ctx) => {
    if (!/^\/\S*$/.test(path)) ctx.addIssue({ code: 'custom', message: 'must start with "/" and contain no spaces' });
    else if (!/^[\x21-\x7e]*$/.test(path)) {
      ctx.addIssue({ code: 'custom', message: `must hold only visible ASCII characters (it is sent as the request's path); percent-encode the others: ${JSON.stringify(encodeURI(path).replace(/%25/g, '%'))}` });
    }
  });

export const portField = z.number().int().min(1).max(65535);

export const imageField = z.string().superRefine((ref, ctx) => {
  const reason = imageReferenceProblem(ref);
  if (reason) ctx.addIssue({ code: 'custom', message: `must be an image reference like "registry.example.com/team/app:1.2": ${reason}` });
});

/** Docker's own rule for network names. */
export const networkField = z
  .string()
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'must be a Docker network name: letters, digits, "_", "." and "-"');

/** YAML turns `8080` and `true` into numbers and booleans; environment values are text. */
export const scalarField = z.union([z.string(), z.number(), z.boolean()], {
  error: 'must be a string, number or boolean',
});

/** A scalar whose text form is one line: no control characters but tab (env and label values). */
export const textScalarField = scalarField.superRefine((value, ctx) => {
  const message = typeof value === 'string' ? controlCharProblem(value, true) : undefined;
  if (message) ctx.addIssue({ code: 'custom', message });
});

/** Plain text of at most `max` characters shown to users (the waiting page): one line, tabs allowed. */
export function plainTextField(max: number) {
  return z
    .string()
    .min(1)
    .max(max)
    .superRefine((text, ctx) => {
      const message = controlCharProblem(text, true);
      if (message) ctx.addIssue({ code: 'custom', message });
    });
}

export const envNameField = z
  .string()
  .meta({ pattern: '^[^=\\x00-\\x1f\\x7f]+$' })
  .superRefine((name, ctx) => {
    const message = name === '' || name.includes('=') ? 'variable names must be non-empty and must not contain "="' : controlCharProblem(name, false);
    if (message) ctx.addIssue({ code: 'custom', message });
  });

export const envMapField = z.record(envNameField, textScalarField);

/** A positive duration checked by `parse` (which bounds it or not). */
function durationFieldOf(parse: (value: string | number) => number) {
  return (
    z
      // The pattern is published for editors; the check itself is the parser's, whose messages are clearer.
      .union([z.string().meta({ pattern: DURATION_PATTERN }), z.number()], {
        error: `must be a duration: ${DURATION_HINT}`,
      })
      .superRefine((value, ctx) => {
        try {
          if (parse(value) === 0) ctx.addIssue({ code: 'custom', message: 'must be longer than 0' });
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
        }
      })
  );
}

export const durationField = durationFieldOf(parseDuration);

/** A duration that may be months or years long (never a timer's): an HSTS max-age. */
export const longDurationField = durationFieldOf(parseLongDuration);

export const sizeField = z
  .union([z.string().meta({ pattern: SIZE_PATTERN }), z.number()], { error: `must be a size: ${SIZE_HINT}` })
  .superRefine((value, ctx) => {
    try {
      parseSize(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });
