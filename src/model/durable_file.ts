import { dirname } from "node:path";

/**
 * Writes that survive a power loss, not only a crash: the data is synced before a rename makes
 * it visible, and the folder is synced after the rename so the new name itself is on disk.
 * Used by the state that promises "nothing lost" and "nothing run twice" (the MQTT result
 * spool, the seen task ids, a replaced collectd.conf).
 */

/** Writes all of `bytes` to `file` (a write may take only part of them). */
export async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await file.write(bytes.subarray(written));
}

/**
 * Replaces `path` with `bytes` atomically and durably: a temp file beside it is written and
 * synced, renamed over `path`, and the folder synced. On failure the temp file is removed and
 * the error thrown; `path` keeps its old content.
 */
export async function writeFileDurable(
  path: string,
  bytes: Uint8Array,
  options: { mode?: number } = {},
): Promise<void> {
  const tmp = path + ".tmp";
  try {
    const file = await Deno.open(tmp, {
      write: true,
      create: true,
      truncate: true,
      ...(options.mode !== undefined ? { mode: options.mode } : {}),
    });
    try {
      await writeAll(file, bytes);
      await file.syncData();
    } finally {
      file.close();
    }
    await renameDurable(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** Renames `from` over `to` (atomic within one filesystem) and syncs the folder. */
export async function renameDurable(from: string, to: string): Promise<void> {
  await Deno.rename(from, to);
  await syncDir(dirname(to));
}

/** Syncs a folder (its entries: created, renamed, removed names). Best effort. */
export async function syncDir(dir: string): Promise<void> {
  try {
    const d = await Deno.open(dir, { read: true });
    try {
      await d.sync();
    } finally {
      d.close();
    }
  } catch {
    // Some filesystems cannot sync a folder; the rename itself already happened.
  }
}

/**
 * The name a state file that cannot be read is kept under: `<path>.corrupt-<UTC time>`, e.g.
 * `maintenance.json.corrupt-20260101T120000.123Z`.
 */
export function setAsideName(path: string, now: number = Date.now()): string {
  const t = Number.isFinite(now) && Math.abs(now) <= 8.64e15 ? now : Date.now();
  return `${path}.corrupt-${new Date(t).toISOString().replace(/[-:]/g, "")}`;
}

/**
 * Moves an unreadable state file out of the way (renamed to {@linkcode setAsideName}), so the
 * agent starts without it and the bytes stay for a post-mortem. Returns the new name, or null
 * when the rename failed too (then the file is left where it is).
 */
export function setAsideSync(path: string, now: number = Date.now()): string | null {
  for (let n = 0; n < 100; n++) {
    const to = setAsideName(path, now) + (n ? `.${n}` : "");
    try {
      Deno.lstatSync(to);
      continue; // taken (two in one millisecond)
    } catch {
      // free
    }
    try {
      Deno.renameSync(path, to);
      return to;
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * Shifts the rotated copies of `path` by one (`path.1` → `path.2` … up to `path.<keep>`, the
 * oldest dropped) and renames `path` to `path.1`; with `keep` 0, `path` is removed instead.
 * The caller opens a new `path` afterwards.
 */
export async function rotateFiles(path: string, keep: number): Promise<void> {
  for (let i = keep - 1; i >= 1; i--) {
    await Deno.rename(`${path}.${i}`, `${path}.${i + 1}`).catch(() => {});
  }
  if (keep > 0) await Deno.rename(path, `${path}.1`);
  else await Deno.remove(path);
}
