import { Command } from 'commander';
import type { Logger } from 'pino';
import type { Gateway } from '../gateway/gateway.js';
import { ConfigError, messageOf } from '../errors.js';
import { tokenProblem } from './settings.js';
import { gatewayIdProblem } from '../cluster/gateways/gateway-id.js';
import type { FileWatch } from './watch-files.js';
import { watchConfig } from './config-watch.js';
import { reloadOnSignal } from './reload-signal.js';
import { boundStartAfterStop, ignoreSignals, stopOnSignals } from './stop-signals.js';
import type { serveBanner } from './serve-banner.js';

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the gateway: proxy, activator and reconciler')
    .option('-c, --config <file>', 'gateway configuration file', 'berth.yaml')
    .option('--no-watch', 'do not reload when the config or spec files change (SIGHUP still reloads)')
    .option('--accept-empty-store', 'start even though the store file is empty while berth-managed containers exist (they are left alone)')
    .action(async (opts: { config: string; watch: boolean; acceptEmptyStore?: boolean }) => {
      // A token the API's `Bearer <token>` can never carry would lock every client out without a word.
      const envTokenProblem = process.env.BERTH_ADMIN_TOKEN ? tokenProblem(process.env.BERTH_ADMIN_TOKEN) : undefined;
      if (envTokenProblem) throw new ConfigError(`BERTH_ADMIN_TOKEN ${envTokenProblem}`);
      const envIdProblem = process.env.BERTH_GATEWAY_ID ? gatewayIdProblem(process.env.BERTH_GATEWAY_ID) : undefined;
      if (envIdProblem) throw new ConfigError(`BERTH_GATEWAY_ID ${envIdProblem}`);
      // From the first moment, not once started: a SIGTERM during the start (the store open, the first
      // reconcile, listeners opening) got Node's default, death by signal with the store lock and
      // whatever had been started left as they were. The first one now waits for the start to settle
      // and then drains; a second exits at once, as while draining.
      let early: Logger | undefined;
      let stopRequested: string | undefined;
      let drain: ((signal: string) => void) | undefined;
      let startBound: { settled(): void } | undefined;
      stopOnSignals(process, {
        drain: (signal) => {
          if (drain) return drain(signal);
          stopRequested = signal;
          if (early) tellStopDuringStart(early, signal);
          // The start is let finish so that it is undone or drained whole, but not for ever.
          startBound = boundStartAfterStop((boundMs) => {
            const line = `the start did not finish within ${boundMs / 1000} s of ${signal}: exiting now; containers are left as they are`;
            if (early) early.error({ signal }, line);
            else process.stderr.write(`berth: ${line}\n`);
            process.exit(1);
          });
        },
        exitNow: (signal) => {
          if (early) early.warn({ signal }, 'second stop signal: exiting now, requests in flight are cut; containers are left as they are');
          else process.stderr.write(`berth: second ${signal} during the start: exiting now\n`);
          process.exit(1);
        },
      });
      // Loaded here, not at the top: every other berth command is an API client and starts faster without them.
      // The banner too: it formats apps' routes and env, which loads the spec's schema library (zod, ~0.4 s).
      const [{ runtimeFromConfig }, { openStore }, { Gateway }, { createLogger, logLevelProblem }, { serveBanner }] = await Promise.all([
        import('../runtime/runtime-from-config.js'),
        import('../store/open-store.js'),
        import('../gateway/gateway.js'),
        import('../log.js'),
        import('./serve-banner.js'),
      ]);
      const levelProblem = process.env.BERTH_LOG_LEVEL ? logLevelProblem(process.env.BERTH_LOG_LEVEL) : undefined;
      if (levelProblem) throw new ConfigError(`BERTH_LOG_LEVEL ${levelProblem}`);
      const logger = (early = createLogger());
      if (stopRequested) tellStopDuringStart(logger, stopRequested);
      ignoreSignals(process, (signal, why) => logger.warn({ signal }, `${signal} ignored: ${why}`));
      // Once, before any listener opens: every client connection and upstream costs a descriptor.
      const { raiseFdLimit, lowFdLimitWarning } = await import('../net/fd-limit.js');
      const fds = raiseFdLimit((message) => logger.warn(message));
      const lowFds = lowFdLimitWarning(fds);
      if (lowFds) logger.warn({ openFiles: fds?.soft }, lowFds);
      logger.debug({ openFiles: fds?.soft }, 'open-file limit');
      const gateway = new Gateway(opts.config, {
        logger,
        // A SQLite file or a postgres:// URL (see open-store.ts).
        openStore: (config) => openStore(config.store, logger),
        // runtime: docker (one engine) or swarm (services on a manager), both at config.docker.
        runtime: (config, hooks) => runtimeFromConfig(config, hooks),
        adminToken: process.env.BERTH_ADMIN_TOKEN || undefined,
        acceptEmptyStore: opts.acceptEmptyStore ?? false,
      });
      const sighup = reloadOnSignal(process, () => gateway.reload());
      // A start that fails closes what it opened (Gateway.start) and the command fails as it would without the signal.
      await gateway.start();
      sighup.started();
      printUrls(gateway, serveBanner);
      const watchers = opts.watch && !stopRequested ? watchGatewayConfig(gateway) : [];
      drain = (signal) => {
        // From here on the drain's own deadline holds (drainTimeout plus a margin).
        startBound?.settled();
        logger.info({ signal }, 'draining requests in flight, then exiting; containers are left as they are (a second SIGTERM or Ctrl-C exits at once)');
        for (const w of watchers) w.close();
        // Whatever hangs (a client, an app, the store), the process exits: drainTimeout plus a margin for
        // closing WebSockets and writing the history. unref: a clean close exits before it, on its own.
        const deadlineMs = (gateway.currentConfig?.drainTimeoutMs ?? DEFAULT_DRAIN_MS) + SHUTDOWN_MARGIN_MS;
        setTimeout(() => {
          logger.error({ deadlineMs }, 'shutdown did not finish in time, exiting anyway');
          process.exit(1);
        }, deadlineMs).unref();
        gateway.close().then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error({ err: messageOf(err) }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      if (stopRequested) drain(stopRequested);
    });
}

function tellStopDuringStart(logger: Logger, signal: string): void {
  logger.info({ signal }, `${signal} during the start: the start is finished (or undone if it fails), then requests in flight are drained and berth exits (a second SIGTERM or Ctrl-C exits at once)`);
}

/** The config's own default for drainTimeout, for a gateway that never loaded its config. */
const DEFAULT_DRAIN_MS = 30_000;
/** What shutdown may take past drainTimeout: WebSocket close frames (1 s of grace) and the last history and usage writes. */
const SHUTDOWN_MARGIN_MS = 5_000;

/** Watches the config in force (its file and spec sources, and those a refused reload named) and reloads on a change. */
function watchGatewayConfig(gateway: Gateway): FileWatch[] {
  if (!gateway.currentConfig?.file) return [];
  return [watchConfig(() => gateway.watchedSources, () => gateway.reload())];
}

function printUrls(gateway: Gateway, banner: typeof serveBanner): void {
  const proxy = gateway.proxyAddress;
  const config = gateway.currentConfig;
  if (!proxy || !config) return;
  const https = gateway.httpsAddress;
  const admin = gateway.adminAddress;
  const lines = banner({
    proxy,
    ...(https ? { https } : {}),
    ...(admin ? { admin } : {}),
    stateDir: config.stateDir,
    apps: config.apps,
    servedApps: gateway.appCount,
    tokenFromEnv: Boolean(process.env.BERTH_ADMIN_TOKEN),
    redirect: config.tls?.redirect ?? false,
  });
  process.stderr.write(lines.join('\n') + '\n');
}
