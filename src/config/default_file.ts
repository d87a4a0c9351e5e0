/** The installed config every command uses when no `--config` is given. */
export const DEFAULT_CONFIG_FILE = "/etc/edge-agent/config.json";

/**
 * {@linkcode DEFAULT_CONFIG_FILE} when it exists, else null (the built-in default applies). The
 * derived permissions grant reading it whenever they were derived without a config file, so a
 * flag never decides the answer: a file the process may not see is an error, not "absent".
 */
export function defaultConfigFile(path: string = DEFAULT_CONFIG_FILE): string | null {
  try {
    Deno.statSync(path);
    return path;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return null;
    throw new Error(
      `Cannot tell whether the default config ${path} exists (${(e as Error).message}): give ` +
        "--config FILE",
      { cause: e },
    );
  }
}
