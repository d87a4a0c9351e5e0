/**
 * Signals a command's process group under whatever `--allow-run` the agent holds:
 * - unrestricted `--allow-run`: `Deno.kill(-pgid)` directly;
 * - a restricted list that includes `/usr/bin/kill` (or `/bin/kill`): through that helper
 *   (`kill -s TERM -- -PGID`), one short process per signal;
 * - neither: only the command's own process is signalled (its children may survive a timeout);
 *   `onDegraded` is told once.
 */
export interface GroupSignaller {
  signal(pgid: number, signal: Deno.Signal, leader: Deno.ChildProcess): Promise<void>;
  /** Whether group `pgid` still has a member; null when that cannot be told. */
  alive(pgid: number): Promise<boolean | null>;
  /** How often `alive` may sensibly be polled, in ms. */
  readonly pollMs: number;
}

/** Where the kill helper is looked for, in order. */
export const KILL_HELPERS = ["/usr/bin/kill", "/bin/kill"];

type Mode = { kind: "direct" } | { kind: "helper"; path: string } | { kind: "leader" };

export function groupSignaller(onDegraded?: (message: string) => void): GroupSignaller {
  let mode: Mode | null = null;
  const pick = (): Mode => {
    if (mode) return mode;
    if (Deno.permissions.querySync({ name: "run" }).state === "granted") {
      return mode = { kind: "direct" };
    }
    for (const path of KILL_HELPERS) {
      if (Deno.permissions.querySync({ name: "run", command: path }).state !== "granted") continue;
      try {
        if (Deno.statSync(path).isFile) return mode = { kind: "helper", path };
      } catch { /* not here */ }
    }
    onDegraded?.(
      "--allow-run is restricted and includes neither /usr/bin/kill nor /bin/kill: a timed-out " +
        "command's own process is killed, but its children may survive",
    );
    return mode = { kind: "leader" };
  };
  const helper = async (path: string, sig: string, pgid: number) =>
    (await new Deno.Command(path, {
      args: ["-s", sig, "--", `-${pgid}`],
      stdin: "null",
      stdout: "null",
      stderr: "null",
      clearEnv: true,
    }).output()).code === 0;

  return {
    get pollMs() {
      return pick().kind === "helper" ? 250 : 50;
    },
    async signal(pgid, signal, leader) {
      const m = pick();
      try {
        if (m.kind === "direct") return Deno.kill(-pgid, signal);
        if (m.kind === "helper" && await helper(m.path, signal.replace(/^SIG/, ""), pgid)) return;
      } catch { /* fall back to the leader */ }
      try {
        leader.kill(signal);
      } catch { /* already gone */ }
    },
    async alive(pgid) {
      const m = pick();
      try {
        if (m.kind === "direct") {
          Deno.kill(-pgid, "SIGCONT"); // harmless; throws once the group is empty
          return true;
        }
        if (m.kind === "helper") return await helper(m.path, "0", pgid);
      } catch {
        return false;
      }
      return null;
    },
  };
}
