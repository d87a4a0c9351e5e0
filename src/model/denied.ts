/**
 * Deno's "not allowed by the permission flags" error, told apart from every other failure so it
 * is never taken for an answer ("not alive", "no such file", "no kill helper"). See
 * src/permissions/ for where each grant comes from.
 */

/** Whether `e` (or one of its causes) is Deno's NotCapable / PermissionDenied error. */
export function isDenied(e: unknown): boolean {
  for (let x = e; x instanceof Error; x = x.cause) {
    if (x instanceof Deno.errors.NotCapable || x instanceof Deno.errors.PermissionDenied) {
      return true;
    }
  }
  return false;
}

/**
 * The error to report for a denied `action`: it names the flag that lacks it and the config key
 * that grants it, e.g. `Cannot read /run/collectd/collectd.pid: not permitted by the agent's
 * --allow-read (granted for Services.collectd.PIDPath; …)`.
 */
export function deniedError(action: string, flag: string, key: string, cause: unknown): Error {
  return new Error(
    `Cannot ${action}: not permitted by the agent's ${flag} (granted for ${key}; the flags are ` +
      `derived from the config when the agent starts, or when its package is built)`,
    { cause },
  );
}
