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
export async function writeFileDurable(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = path + ".tmp";
  try {
    const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
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
async function syncDir(dir: string): Promise<void> {
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
