import type { Counters } from "../model/mod.ts";

/** Resident set size of the agent process in bytes (a gauge). */
export const RSS_GAUGE = "edge_agent_process_resident_memory_bytes";
/** JavaScript heap in use in bytes (a gauge). */
export const HEAP_USED_GAUGE = "edge_agent_process_heap_used_bytes";
/** Memory held outside the JavaScript heap in bytes (a gauge). */
export const EXTERNAL_MEMORY_GAUGE = "edge_agent_process_external_memory_bytes";
/** Start time of the agent since the Unix epoch in seconds (a gauge). */
export const START_TIME_GAUGE = "edge_agent_process_start_time_seconds";
/** Seconds since the agent started (a gauge). */
export const UPTIME_GAUGE = "edge_agent_process_uptime_seconds";

/** Memory figures of the process (Deno.memoryUsage's shape). */
export interface MemoryFigures {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}

/** Options of {@linkcode registerProcessGauges}. */
export interface ProcessGaugesOptions {
  /** Default: `Deno.memoryUsage`. */
  memoryUsage?: () => MemoryFigures;
  /** Milliseconds since the epoch. Default: `Date.now`. */
  now?: () => number;
}

/**
 * Registers the process gauges (resident memory, JS heap, start time, uptime) in `counters` and
 * returns the function that refreshes them; call it before every snapshot that is exported
 * (scrape, status message, collectd report). Cheap: one memoryUsage call.
 */
export function registerProcessGauges(
  counters: Counters,
  options: ProcessGaugesOptions = {},
): () => void {
  const memoryUsage = options.memoryUsage ?? (() => Deno.memoryUsage());
  const now = options.now ?? Date.now;
  const started = now();
  const rss = counters.gauge(
    RSS_GAUGE,
    "Resident set size of the agent process in bytes.",
  );
  const heap = counters.gauge(
    HEAP_USED_GAUGE,
    "JavaScript heap in use by the agent process in bytes.",
  );
  const external = counters.gauge(
    EXTERNAL_MEMORY_GAUGE,
    "Memory held outside the JavaScript heap (buffers) in bytes.",
  );
  const start = counters.gauge(
    START_TIME_GAUGE,
    "Start time of the agent since the Unix epoch in seconds.",
  );
  const uptime = counters.gauge(
    UPTIME_GAUGE,
    "Seconds since the agent started.",
  );
  start.set(Math.floor(started / 1000));
  const refresh = () => {
    const m = memoryUsage();
    rss.set(m.rss);
    heap.set(m.heapUsed);
    external.set(m.external);
    uptime.set(Math.round((now() - started) / 1000));
  };
  refresh();
  return refresh;
}
