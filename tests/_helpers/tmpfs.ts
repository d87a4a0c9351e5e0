import { join } from "node:path";

/** A small real filesystem a test can fill up (see {@linkcode withTmpfs}). */
export interface SmallFs {
  /** Where it is mounted (an empty temp folder). */
  readonly dir: string;
  /** Writes a filler file until the filesystem is full ("No space left on device"). */
  fill(): Promise<void>;
  /** Removes the filler: the space is back. */
  free(): Promise<void>;
}

/**
 * Runs `fn` with a fresh tmpfs of `sizeBytes` mounted on a temp folder, and unmounts and removes
 * it afterwards, whatever happens. Needs root (CI and this workplace run as root); without it the
 * test fails loudly rather than skipping.
 */
export async function withTmpfs(
  sizeBytes: number,
  fn: (fs: SmallFs) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-tmpfs-" });
  await run("/usr/bin/mount", ["-t", "tmpfs", "-o", `size=${sizeBytes},mode=0700`, "tmpfs", dir]);
  const filler = join(dir, ".filler");
  try {
    await fn({
      dir,
      async fill() {
        const f = await Deno.open(filler, { write: true, create: true, append: true });
        const chunk = new Uint8Array(4096);
        try {
          for (;;) await f.write(chunk);
        } catch (e) {
          if (!/No space left|ENOSPC|os error 28/i.test(String(e))) throw e;
        } finally {
          f.close();
        }
        // What a partial block left: fill it byte by byte.
        const g = await Deno.open(filler, { write: true, append: true });
        try {
          for (;;) await g.write(new Uint8Array(1));
        } catch {
          /* full */
        } finally {
          g.close();
        }
      },
      async free() {
        await Deno.remove(filler).catch(() => {});
      },
    });
  } finally {
    await run("/usr/bin/umount", ["-l", dir]).catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed (needs root): ${new TextDecoder().decode(out.stderr)}`,
    );
  }
}
