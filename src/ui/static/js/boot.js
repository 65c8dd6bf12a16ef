// A classic script, run before the dashboard's modules. The dashboard is a graph of ES
// modules, and one module whose fetch fails leaves the page blank: none of them runs, so
// nothing is left to say so. A fetch fails for reasons that pass by themselves: a
// connection dropped while the gateway restarts, or Chromium's ERR_NETWORK_CHANGED, which
// it gives every request under way when the host's network interfaces change (Docker adds
// and removes one for each container it starts and stops, so a browser on a berth host
// sees it often). So a failed load is retried by reloading the page, a few times with a
// growing pause; after that the page says what happened and offers a reload.
//
// The gateway puts this script in the page itself (serve-ui.ts, with its hash in the page's
// policy): fetched on its own, the one file that recovers from a failed fetch could fail
// to arrive too, and a page without it stays blank for good.
(function () {
  'use strict';
  var KEY = 'berth.loadRetries';
  var PAUSES_MS = [250, 750, 1500, 3000];
  // Long enough for a slow gateway to answer the page itself: a reload still under way when this
  // fires would be started again, and one that always took longer would never load.
  var RELOAD_GONE_MS = 10000;

  function retries() {
    try {
      return Number(sessionStorage.getItem(KEY)) || 0;
    } catch (e) {
      return PAUSES_MS.length;
    }
  }

  function forgetRetries() {
    try {
      sessionStorage.removeItem(KEY);
    } catch (e) {
      // nothing to clear
    }
  }

  // The boxes this script fills are further down the page than this script is.
  function whenReady(show) {
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', show);
    else show();
  }

  function showFailure(url) {
    var box = document.getElementById('load-failed');
    if (!box) return;
    var what = document.getElementById('load-failed-what');
    if (what) what.textContent = url ? ' (' + url + ')' : '';
    box.hidden = false;
    var button = document.getElementById('load-failed-reload');
    // Asked for by hand, a reload gets its retries afresh: with none left, one more passing
    // failure (a container started on the host changes its interfaces) showed this box again.
    if (button) button.addEventListener('click', function () {
      forgetRetries();
      location.reload();
    });
  }

  function failed(url) {
    var done = retries();
    if (done >= PAUSES_MS.length) {
      whenReady(function () { showFailure(url); });
      return;
    }
    try {
      sessionStorage.setItem(KEY, String(done + 1));
    } catch (e) {
      // Without sessionStorage a reload could loop; say so instead.
      showFailure(url);
      return;
    }
    setTimeout(function () { location.reload(); }, PAUSES_MS[done]);
    // A reload whose request fails without a page of its own (Chromium drops an aborted
    // navigation and keeps this document) would leave this page as it is, waiting on
    // nothing: still here well after it, this counts as one more failed load.
    setTimeout(function () { failed(url); }, PAUSES_MS[done] + RELOAD_GONE_MS);
  }

  var reported = false;
  var ran = false;
  // A module script whose graph failed to load fires 'error' at its element; it does not
  // bubble, so it is caught on the way down.
  window.addEventListener('error', function (event) {
    var el = event.target;
    if (reported || !el || el.tagName !== 'SCRIPT' || el.type !== 'module') return;
    reported = true;
    failed(el.src);
  }, true);

  // A script error that is not a failed fetch (a module that throws while it loads, a
  // render that meets a value it did not expect, a promise nobody waits for) used to leave
  // a blank or frozen page with nothing on it to say so: the console only. The page now
  // says what failed and offers a reload; the first error is shown, later ones counted.
  var errors = 0;
  function showError(text) {
    var box = document.getElementById('page-error');
    if (!box) return;
    errors++;
    var more = document.getElementById('page-error-more');
    if (errors === 1) {
      var what = document.getElementById('page-error-text');
      if (what) what.textContent = text;
      var button = document.getElementById('page-error-reload');
      if (button) button.addEventListener('click', function () { location.reload(); });
    } else if (more) {
      more.textContent = ' (and ' + (errors - 1) + ' more error' + (errors > 2 ? 's' : '') + ')';
    }
    box.hidden = false;
  }

  function describe(error, fallback) {
    if (error && typeof error.message === 'string' && error.message) return error.message;
    if (typeof error === 'string' && error) return error;
    return fallback;
  }

  function where(url, line) {
    if (!url) return '';
    var file = String(url).replace(/^.*\/ui\//, '/ui/');
    return ' (' + file + (line ? ':' + line : '') + ')';
  }

  window.addEventListener('error', function (event) {
    // Failed fetches of scripts are handled above; this is a thrown error (target: window).
    if (event.target && event.target !== window) return;
    // Chromium reports a layout that needed a second pass this way; nothing failed.
    if (/ResizeObserver loop/.test(event.message || '')) return;
    var text = describe(event.error, event.message || 'a script error') + where(event.filename, event.lineno);
    whenReady(function () { showError(text); });
  });

  window.addEventListener('unhandledrejection', function (event) {
    var text = describe(event.reason, 'a task failed without a reason');
    whenReady(function () { showError(text); });
  });

  // By 'load' every module script of the page has run (they are deferred). If main.js did not
  // say it ran, and no failed fetch or script error was seen, its load went wrong in a way
  // that reported nothing (an empty or cut answer taken as a module): retried like a failed fetch.
  window.addEventListener('load', function () {
    if (ran || reported || errors > 0) return;
    reported = true;
    var main = document.querySelector('script[type="module"]');
    failed(main ? main.src : '');
  });

  // main.js calls this once it runs: the next failed load starts its retries afresh.
  window.berthLoaded = function () {
    ran = true;
    forgetRetries();
  };
})();
