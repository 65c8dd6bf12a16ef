// The dashboard's entry: sign-in, the hash router, the one-second ticker, and spoken
// state changes. Every figure on screen comes from the admin API (see store.js).

import { api, session, signInMessage, UNAUTHORIZED_EVENT } from './api.js';
import { mountDetail } from './app-detail.js';
import { tick } from './dom.js';
import { announce } from './feedback.js';
import { mountOverview } from './overview.js';
import * as store from './store.js';
import { mountGateways } from './gateways.js';
import { mountSummary } from './summary.js';

const $ = (id) => document.getElementById(id);

const STREAM_TEXT = {
  off: 'offline',
  connecting: 'connecting…',
  live: 'live',
  retrying: 'reconnecting…',
  unauthorized: 'signed out',
};

let unmountView = () => undefined;
let unmountSummary = () => undefined;
let signedIn = false;

function showSignIn(message = '') {
  signedIn = false;
  unmountView();
  unmountSummary();
  unmountView = unmountSummary = () => undefined;
  store.stop();
  $('view').hidden = true;
  $('summary').hidden = true;
  $('sign-out').hidden = true;
  $('sign-in').hidden = false;
  $('sign-in-error').textContent = message;
  $('token-input').value = '';
  $('token-input').focus();
}

function showDashboard() {
  signedIn = true;
  $('sign-in').hidden = true;
  $('view').hidden = false;
  $('summary').hidden = false;
  $('sign-out').hidden = false;
  const unmountStrip = mountSummary($('summary'));
  const unmountGateways = mountGateways($('gateways'));
  unmountSummary = () => {
    unmountStrip();
    unmountGateways();
  };
  store.start();
  route();
}

/** #/ → overview; #/apps/NAME[/requests|logs|spec] → one app. */
function route() {
  if (!signedIn) return;
  unmountView();
  let parts;
  try {
    parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  } catch {
    parts = [];
  }
  const view = $('view');
  if (parts[0] === 'apps' && parts[1]) {
    document.title = `${parts[1]} · berth`;
    unmountView = mountDetail(view, parts[1], parts[2] ?? '');
  } else {
    document.title = 'berth';
    unmountView = mountOverview(view);
  }
}

async function signIn(event) {
  event.preventDefault();
  const token = $('token-input').value.trim();
  const button = $('sign-in-button');
  button.disabled = true;
  $('sign-in-error').textContent = '';
  try {
    // Any authenticated call proves the token; version is the cheapest.
    await api('/v1/version', { token });
    session.token = token;
    showDashboard();
    $('main').focus();
  } catch (err) {
    $('sign-in-error').textContent = signInMessage(err);
  } finally {
    button.disabled = false;
  }
}

function init() {
  $('sign-in-form').addEventListener('submit', signIn);
  $('sign-out').addEventListener('click', () => {
    session.token = null;
    showSignIn('Signed out.');
  });
  window.addEventListener(UNAUTHORIZED_EVENT, () => {
    if (!signedIn) return;
    session.token = null;
    showSignIn('The gateway no longer accepts this token; sign in again.');
  });
  window.addEventListener('hashchange', route);

  store.subscribe((change) => {
    if (change.kind === 'stream') {
      const el = $('stream-status');
      el.dataset.status = store.state.stream;
      el.textContent = STREAM_TEXT[store.state.stream] ?? store.state.stream;
    } else if (change.kind === 'app' && change.previous && change.previous !== store.state.apps.get(change.name)?.state) {
      announce(`${change.name} is now ${store.state.apps.get(change.name).state}`);
    } else if (change.kind === 'deleted') {
      announce(`${change.name} was deleted`);
    }
  });
  setInterval(() => tick(), 1000);

  if (session.token) showDashboard();
  else showSignIn();
  // boot.js retries a page whose modules failed to load; they ran, so the count starts afresh.
  window.berthLoaded?.();
}

init();
