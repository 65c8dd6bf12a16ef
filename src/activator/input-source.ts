import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AppSpec } from '../spec/types.js';

/** The path under the proxy listener where an app fetches its input (`input.as: url`). */
export const INPUT_PATH_PREFIX = '/_berth/input/';

/**
 * Input JSON by URL, as django_docker_engine's `input_json_url`: the container
 * gets `<base>/_berth/input/<app>?secret=<s>` and fetches its input from the
 * proxy listener. `s` is HMAC-SHA256(gateway secret, app name, input JSON), so one
 * app's URL opens no other app's input, nothing per app has to be stored, and the
 * URL stays the same across restarts of the gateway (the gateway secret lives in
 * the store). The input is signed with the name because names come back: an app
 * deleted and made again under its name for someone else (a per-user session, a
 * preview) must not open to the URL the first one's container was given. Its
 * secret opens only the input it was made for, which its holder had already. A
 * changed input makes new containers anyway (it is part of the container spec hash).
 */
export class InputSource {
  constructor(
    private readonly secret: Buffer,
    private readonly specs: () => ReadonlyMap<string, AppSpec>,
  ) {}

  /** The URL secret of app `app` taking input `json`: HMAC-SHA256(gateway secret, name NUL json), hex. */
  urlSecret(app: string, json: string): string {
    return createHmac('sha256', this.secret).update(app).update('\0').update(json).digest('hex');
  }

  /** The full URL a container of `app` fetches its input `json` from, under `baseUrl` (no trailing slash). */
  url(baseUrl: string, app: string, json: string): string {
    return `${baseUrl}${INPUT_PATH_PREFIX}${encodeURIComponent(app)}?secret=${this.urlSecret(app, json)}`;
  }

  /**
   * The app's input JSON when `secret` is the URL secret of the app as it is now;
   * undefined when it is not, or when the app does not exist or takes no input by
   * URL (the caller cannot tell which: a secret is computed and compared either
   * way). The comparison takes the same time however much of it matches.
   */
  inputFor(app: string, secret: string): string | undefined {
    const input = this.specs().get(app)?.input;
    // Only apps that are given the URL are served by it.
    const json = input?.as === 'url' ? input.json : undefined;
    const expected = Buffer.from(this.urlSecret(app, json ?? ''));
    const given = Buffer.from(secret);
    const matches = given.length === expected.length && timingSafeEqual(given, expected);
    return matches ? json : undefined;
  }
}
