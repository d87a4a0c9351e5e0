import type { Logger } from "../model/mod.ts";

/** Options of {@linkcode watchDir}. */
export interface WatchOptions {
  logger: Logger;
  /** Quiet time after the last change before `onChange` runs (editors write in steps). */
  debounceMs?: number;
}

/**
 * Calls `onChange` (debounced) whenever a `.ts` file of `dir` is created, changed, renamed or
 * removed. A directory that cannot be watched is logged, not thrown. `close` stops watching.
 */
export function watchDir(
  dir: string,
  onChange: () => void,
  options: WatchOptions,
): { close(): void } {
  const debounceMs = options.debounceMs ?? 150;
  let watcher: Deno.FsWatcher;
  try {
    watcher = Deno.watchFs(dir, { recursive: false });
  } catch (e) {
    options.logger.warn(`cannot watch the rules directory ${dir}; changes need SIGHUP`, {
      error: (e as Error).message,
    });
    return { close() {} };
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  (async () => {
    try {
      for await (const event of watcher) {
        if (!event.paths.some((p) => p.endsWith(".ts"))) continue;
        clearTimeout(timer);
        timer = setTimeout(onChange, debounceMs);
      }
    } catch (e) {
      options.logger.warn("watching the rules directory stopped", {
        error: (e as Error).message,
      });
    }
  })();
  return {
    close() {
      clearTimeout(timer);
      try {
        watcher.close();
      } catch { /* closed */ }
    },
  };
}
