/**
 * The AuthFile users of each `Listen` entry, re-read when a file changes (like collectd, which
 * re-reads its AuthFile when the file's modification time changes).
 * @module
 */
import type { Logger } from "../model/mod.ts";
import { type AuthUsers, loadAuthFile } from "./auth_file.ts";

/** The users per Listen entry (null: the entry has no AuthFile). */
export class AuthFiles {
  /** Users of entry i, as last read (read by the receive loop for every datagram). */
  readonly users: (AuthUsers | null)[] = [];
  readonly #paths: readonly (string | undefined)[];
  readonly #mtimes: (number | null)[] = [];
  readonly #log: Logger;
  readonly #read: ((path: string) => Promise<string>) | undefined;

  /** `paths[i]`: the AuthFile of entry i, if any. */
  constructor(
    paths: readonly (string | undefined)[],
    logger: Logger,
    readTextFile?: (path: string) => Promise<string>,
  ) {
    this.#paths = paths;
    this.#log = logger;
    this.#read = readTextFile;
  }

  /** Reads every AuthFile; rejects naming the first that cannot be read. */
  async load(): Promise<void> {
    for (const path of this.#paths) {
      this.users.push(path === undefined ? null : await loadAuthFile(path, this.#read));
      this.#mtimes.push(path === undefined ? null : mtime(path));
    }
  }

  /** Re-reads each AuthFile whose modification time changed; one that fails keeps its users. */
  async reloadChanged(): Promise<void> {
    for (const [i, path] of this.#paths.entries()) {
      if (path === undefined) continue;
      const m = mtime(path);
      if (m === this.#mtimes[i]) continue;
      this.#mtimes[i] = m;
      try {
        this.users[i] = await loadAuthFile(path, this.#read);
        this.#log.info("AuthFile re-read", { path, users: this.users[i]!.size });
      } catch (err) {
        this.#log.error("AuthFile changed but cannot be read; keeping the previous users", {
          path,
          error: err,
        });
      }
    }
  }
}

function mtime(path: string): number | null {
  try {
    return Deno.statSync(path).mtime?.getTime() ?? null;
  } catch {
    return null;
  }
}
