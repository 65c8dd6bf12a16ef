import { RuntimeError } from '../../errors.js';
import type { AppView, StatusView } from '../api-types.js';
import { seg, type ApiClient } from '../client.js';
import { printable } from '../api-errors.js';
import { preciseDuration } from '../format.js';
import { shownText } from '../terminal-text.js';
import type { Progress } from '../progress.js';

export type LifecycleAction = 'start' | 'stop' | 'restart';

const doing: Record<LifecycleAction, string> = { start: 'starting', stop: 'stopping', restart: 'restarting' };

/**
 * Starts, stops or restarts one app through the API, which answers once the
 * app is ready (or stopped), and says how it went. A start that did not end
 * with a running app is an error, with the app's last error as the reason.
 */
export async function runLifecycle(client: ApiClient, name: string, action: LifecycleAction, progress: Progress): Promise<StatusView> {
  progress.begin(name, doing[action]);
  try {
    if (action === 'start') {
      // Asked first rather than judged from timestamps, which come from the server's clock.
      const app = await client.call<AppView>('GET', `/v1/apps/${seg(name)}`);
      if (app.status?.state === 'running') {
        progress.done(name, 'already running');
        return app.status;
      }
    }
    const began = performance.now();
    const status = await client.call<StatusView>('POST', `/v1/apps/${seg(name)}/${action}`);
    if (action === 'stop') {
      progress.done(name, shownText(status.state));
      return status;
    }
    if (status.state !== 'running') {
      // lastError may quote the app's own words (its last output): one printable line.
      throw new RuntimeError(`${name} is ${shownText(status.state)}${status.lastError ? `: ${printable(status.lastError)}` : ''}`);
    }
    progress.done(name, `ready in ${preciseDuration(status.lastStartMs ?? performance.now() - began)}`);
    return status;
  } catch (err) {
    progress.failed();
    throw err;
  }
}
