/**
 * One collection that gives V8's free pages back to the system, when the process runs with
 * `--expose-gc` (the agent's and the rule host's flags; else nothing). Only the "last-resort"
 * flavour returns the pages: a plain `gc()` keeps them mapped (a probe that dropped 300 000
 * objects: 68 → 65 MiB against 68 → 12 MiB). Used once start-up or a rule load is over, never on
 * the hot path.
 *
 * The agent and the rule host's main thread use it; the rule worker, built only from the modules
 * `scripts/build_sandbox.ts` names, calls the `gc` it took before the enclosure with the same
 * options (`sandbox/enclose.ts`).
 * @module
 */

/** V8's `gc()` as `--expose-gc` installs it. */
type Gc = (options: object) => void;

const OPTIONS = { type: "major", execution: "sync", flavor: "last-resort" } as const;

/** Runs the global `gc` with the memory-releasing options; nothing without it. */
export function releaseMemory(): void {
  (globalThis as { gc?: Gc }).gc?.(OPTIONS);
}
