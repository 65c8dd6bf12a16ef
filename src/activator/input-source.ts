import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AppSpec } from '../spec/types.js';

/** The path under the proxy listener where an app fetches its input (`input.as: url`). */
export const INPUT_PATH_PREFIX = '/_berth/input/';

/**
 * Input JSON by URL, as django_docker_engine's `input_json_url`: the container
 * gets `<base>/_berth/input/<app>?secret=<s>` and fetches its input from the
 * proxy listener. `s` is HMAC-SHA256(gateway secret, app name), so one app's URL
 * opens no other app's input, nothing per app has to be stored, and the URL stays
 * the same across restarts of the gateway (the gateway secret lives in the store).
 */
export class InputSource {
  constructor(
    private readonly secret: Buffer,
    private readonly specs: () => ReadonlyMap<string, AppSpec>,
  ) {}

  /** The app's URL secret: HMAC-SHA256(gateway secret, app name), hex. */
  urlSecret(app: string): string {
    return createHmac('sha256', this.secret).update(app).digest('hex');
  }

  /** The full URL a container fetches its input from, under `baseUrl` (no trailing slash). */
  url(baseUrl: string, app: string): string {
    return `${baseUrl}${INPUT_PATH_PREFIX}${encodeURIComponent(app)}?secret=${this.urlSecret(app)}`;
  }

  /**
   * The app's input JSON when `secret` is the app's URL secret; undefined when it
   * is not, or when the app does not exist or takes no input by URL (the caller
   * cannot tell which). The comparison takes the same time however much of it matches.
   */
  inputFor(app: string, secret: string): string | undefined {
    const expected = Buffer.from(this.urlSecret(app));
    const given = Buffer.from(secret);
    const matches = given.length === expected.length && timingSafeEqual(given, expected);
    if (!matches) return undefined;
    const input = this.specs().get(app)?.input;
    // Only apps that are given the URL are served by it.
    return input?.as === 'url' ? input.json : undefined;
  }
}
