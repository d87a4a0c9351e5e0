import type { Counters, Logger, Stage } from "../model/mod.ts";
import type { HealthReport } from "./health.ts";
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "./prometheus.ts";

/** Options of {@linkcode createTelemetryServer}. */
export interface TelemetryServerOptions {
  /** `host:port` or `[v6]:port`; port 0 picks a free port (see `addr` after start). */
  listen: string;
  counters: Counters;
  /** Evaluated on every `/healthz` request. */
  health: () => HealthReport;
  logger: Logger;
  /** Called before each `/metrics` render (e.g. to refresh the process gauges). */
  beforeScrape?: () => void;
}

/** The HTTP endpoint; `addr` is the bound address once `start` resolved. */
export interface TelemetryServer extends Stage {
  readonly addr: Deno.NetAddr | undefined;
}

/** Splits `host:port` / `[v6]:port`. Throws RangeError naming the text when it is neither. */
export function parseListenAddress(text: string): { hostname: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  const port = Number(m?.[2]);
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(
      `Invalid telemetry listen address "${text}": expected host:port or [v6]:port`,
    );
  }
  return { hostname: m[1]!, port };
}

/**
 * The opt-in HTTP endpoint: `GET /metrics` (Prometheus text 0.0.4 of every counter and gauge),
 * `GET /healthz` (200 with a JSON report when every check passes, 503 with the same JSON
 * otherwise). Other paths answer 404, other methods 405. `start` resolves once the socket is
 * bound and rejects naming the address when it cannot be; `stop` closes it (idempotent).
 */
export function createTelemetryServer(options: TelemetryServerOptions): TelemetryServer {
  const { hostname, port } = parseListenAddress(options.listen);
  const log = options.logger;
  let server: Deno.HttpServer<Deno.NetAddr> | undefined;
  let addr: Deno.NetAddr | undefined;

  function handle(req: Request): Response {
    const path = new URL(req.url).pathname;
    if (path !== "/metrics" && path !== "/healthz") {
      return new Response("not found: try /metrics or /healthz\n", { status: 404 });
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    if (path === "/metrics") {
      options.beforeScrape?.();
      const body = renderPrometheus(options.counters.snapshot());
      return new Response(req.method === "HEAD" ? null : body, {
        headers: { "content-type": PROMETHEUS_CONTENT_TYPE },
      });
    }
    let report: HealthReport;
    try {
      report = options.health();
    } catch (e) {
      report = { ok: false, checks: { health: { ok: false, detail: (e as Error).message } } };
    }
    return new Response(req.method === "HEAD" ? null : JSON.stringify(report) + "\n", {
      status: report.ok ? 200 : 503,
      headers: { "content-type": "application/json", "cache-control": "no-store" },
    });
  }

  return {
    get addr() {
      return addr;
    },
    start() {
      if (server) return Promise.resolve();
      const { promise, resolve } = Promise.withResolvers<void>();
      try {
        server = Deno.serve({
          hostname,
          port,
          onListen: (a) => {
            addr = a;
            log.info("telemetry endpoint listening", {
              url: `http://${a.hostname.includes(":") ? `[${a.hostname}]` : a.hostname}:${a.port}`,
            });
            resolve();
          },
          onError: (e) => {
            log.error("telemetry request failed", { error: (e as Error).message });
            return new Response("internal error\n", { status: 500 });
          },
        }, handle);
      } catch (e) {
        server = undefined;
        return Promise.reject(
          new Error(`Cannot listen for telemetry on ${options.listen}: ${(e as Error).message}`, {
            cause: e,
          }),
        );
      }
      return promise;
    },
    async stop() {
      const s = server;
      server = undefined;
      if (s) await s.shutdown();
    },
  };
}
