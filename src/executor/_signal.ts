/**
 * Signals a command's process group under whatever `--allow-run` the agent holds:
 * - unrestricted `--allow-run`: `Deno.kill(-pgid)` directly;
 * - a restricted list holding `/usr/bin/kill` (or `/bin/kill`): through that helper
 *   (`kill -s TERM -- -PGID`), one short process per signal. Which helper may run is asked of the
 *   permissions, never of the file system: stat-ing it needs a read grant the agent lacks, and a
 *   denied stat must not read as "no helper". A helper that is not there (spawn: NotFound) is
 *   skipped for the next;
 * - neither: only the command's own process is signalled (its children may survive a timeout);
 *   `onDegraded` is told once, saying which case it is.
 */
export interface GroupSignaller {
  /** Sends `signal` to group `pgid`; resolves to what it reached (the group, or the leader). */
  signal(pgid: number, signal: Deno.Signal, leader: Deno.ChildProcess): Promise<SignalTarget>;
  /** Whether group `pgid` still has a member (zombies count); null when that cannot be told. */
  alive(pgid: number): Promise<boolean | null>;
  /** How often `alive` may sensibly be polled, in ms. */
  readonly pollMs: number;
}

/** What a signal reached: the whole process group, or only the command's own process. */
export type SignalTarget = "group" | "leader";

/** Where the kill helper is looked for, in order. */
export const KILL_HELPERS = ["/usr/bin/kill", "/bin/kill"];

/** Options of {@linkcode groupSignaller}; the defaults ask the process's own permissions. */
export interface GroupSignallerOptions {
  /** Told once when only the command's own process can be signalled, and why. */
  onDegraded?: (message: string) => void;
  /** Whether `Deno.kill` may signal any process (unrestricted --allow-run). */
  direct?: boolean;
  /** Whether this process may run `path`. */
  mayRun?: (path: string) => boolean;
  /** Kill helpers to try, in order. Default {@linkcode KILL_HELPERS}. */
  helpers?: readonly string[];
}

type Mode = { kind: "direct" } | { kind: "helper"; paths: string[] } | { kind: "leader" };

export function groupSignaller(options: GroupSignallerOptions = {}): GroupSignaller {
  const query = (d: Deno.RunPermissionDescriptor) =>
    Deno.permissions.querySync(d).state === "granted";
  const direct = options.direct ?? query({ name: "run" });
  const mayRun = options.mayRun ?? ((command: string) => query({ name: "run", command }));
  const helpers = options.helpers ?? KILL_HELPERS;
  let mode: Mode | null = null;
  let told = false;
  const degrade = (why: string): Mode => {
    if (!told) {
      told = true;
      options.onDegraded?.(
        `${why}: a timed-out command's own process is signalled, but its children may survive`,
      );
    }
    return mode = { kind: "leader" };
  };
  const pick = (): Mode => {
    if (mode) return mode;
    if (direct) return mode = { kind: "direct" };
    const paths = helpers.filter((p) => mayRun(p));
    if (paths.length === 0) {
      return degrade(
        `--allow-run is restricted and holds neither ${helpers.join(" nor ")}; the flags derived ` +
          "from a config with Services grant them",
      );
    }
    return mode = { kind: "helper", paths };
  };
  /** Runs the first helper that exists; the output tells the caller what happened. */
  const helper = async (args: string[]): Promise<{ code: number; stderr: string } | null> => {
    for (;;) {
      const m = pick();
      if (m.kind !== "helper") return null;
      try {
        const out = await new Deno.Command(m.paths[0]!, {
          args,
          stdin: "null",
          stdout: "null",
          stderr: "piped",
          clearEnv: true,
        }).output();
        return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
      } catch (e) {
        const gone = m.paths.shift();
        if (!(e instanceof Deno.errors.NotFound)) {
          degrade(`the kill helper ${gone} cannot be run (${(e as Error).message})`);
        } else if (m.paths.length === 0) {
          degrade(`none of ${helpers.join(", ")} exists (install procps or util-linux)`);
        }
      }
    }
  };

  return {
    get pollMs() {
      return pick().kind === "helper" ? 250 : 50;
    },
    async signal(pgid, signal, leader) {
      const m = pick();
      if (m.kind === "direct") {
        try {
          Deno.kill(-pgid, signal);
        } catch { /* the group has no member left */ }
        return "group";
      }
      if (m.kind === "helper") {
        const out = await helper(["-s", signal.replace(/^SIG/, ""), "--", `-${pgid}`]);
        if (out && (out.code === 0 || /no such process/i.test(out.stderr))) return "group";
      }
      try {
        leader.kill(signal);
      } catch { /* already gone */ }
      return "leader";
    },
    async alive(pgid) {
      const m = pick();
      if (m.kind === "direct") {
        try {
          Deno.kill(-pgid, "SIGCONT"); // harmless; throws once the group is empty
          return true;
        } catch {
          return false;
        }
      }
      const out = await helper(["-0", "--", `-${pgid}`]);
      if (out === null) return null;
      if (out.code === 0) return true;
      return /no such process/i.test(out.stderr) ? false : null;
    },
  };
}
