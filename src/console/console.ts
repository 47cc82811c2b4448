/**
 * The operator's console, put together: the hub that watches answered
 * frames, the HTTP(S) listener with its routes, and the sign-in. The server
 * composition (src/app/start-server.ts) makes the hub first (it is the
 * sessions' result tap), then starts this.
 */
import type { TokenIdentities } from '../auth/security.js';
import type { LogSink } from '../log/logger.js';
import type { TlsFiles } from '../tls/tls-front.js';
import { addAccessRoutes } from './access-routes.js';
import { ConsoleHub, type LineDescriber, type ZoneDescriber } from './hub.js';
import { ConsoleHttp } from './http-server.js';
import { consoleExposureProblem, type ConsoleSettings } from './options.js';
import { StaticFiles, type StaticRoots } from './static-files.js';
import { addZoneRoutes } from './zone-routes.js';

export interface ConsoleStartOptions {
  settings: ConsoleSettings;
  hub: ConsoleHub;
  roots: StaticRoots;
  tokens?: TokenIdentities;
  tls?: TlsFiles;
  log: LogSink;
  /** What POST /api/admin/reload runs (the SIGHUP reload); absent: no such route (and no zone editor). */
  reload?: () => Promise<string>;
  /** The site file the zone editor saves (then reloads with `reload`); absent: its API says there is none. */
  sitePath?: string;
}

export interface RunningConsole {
  hub: ConsoleHub;
  http: ConsoleHttp;
  url: string;
  close(): Promise<void>;
}

export function createHub(settings: ConsoleSettings, zones: ZoneDescriber | undefined, log: LogSink, lines?: LineDescriber): ConsoleHub {
  return new ConsoleHub({ settings, zones, lines, log: (line) => log(line, { level: 'warn', event: 'console-error' }) });
}

export async function startConsole(options: ConsoleStartOptions): Promise<RunningConsole> {
  const problem = consoleExposureProblem(options.settings, options.tokens !== undefined);
  if (problem) throw new Error(problem);
  const files = new StaticFiles(options.roots);
  if (files.missing) options.log(`console: frontend files missing (${files.missing}); the page says so`, { level: 'warn', event: 'console-not-built' });
  const http = await ConsoleHttp.start({ settings: options.settings, hub: options.hub, files, tokens: options.tokens, tls: options.tls, log: options.log });
  addAccessRoutes(http, options.tokens, options.log);
  const reload = options.reload;
  if (reload) {
    http.router.add({
      method: 'POST',
      path: '/api/admin/reload',
      access: 'admin',
      maxBodyBytes: 0,
      handler: async (ctx) => {
        const line = await reload();
        options.log(`console: ${ctx.user?.name ?? 'local operator'} reloaded: ${line}`, { event: 'reload' });
        ctx.sendJson(200, { result: line });
      },
    });
    addZoneRoutes(http.router, { sitePath: options.sitePath, reload, log: options.log, maxBodyBytes: options.settings.limits.maxRequestBytes });
  }
  return {
    hub: options.hub,
    http,
    url: http.url,
    close: async () => {
      options.hub.close();
      await http.close();
    },
  };
}
