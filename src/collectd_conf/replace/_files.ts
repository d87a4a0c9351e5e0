import { writeAll } from "../../model/mod.ts";

/** Owner and permission bits copied from an existing file. */
export interface FileLikeness {
  uid: number | null;
  gid: number | null;
  /** Permission bits only (e.g. 0o640). */
  mode: number;
}

/** The owner and mode of `path` (the old collectd.conf). */
export async function likenessOf(path: string): Promise<FileLikeness> {
  const st = await Deno.stat(path);
  return { uid: st.uid, gid: st.gid, mode: (st.mode ?? 0o600) & 0o7777 };
}

/**
 * Writes `data` to a fresh file at `path` with the owner and mode of `like`, durably (fsync).
 * The file is created private (0600) and only then given `like`'s owner and mode, so its text is
 * never readable by anyone the old file did not allow. Any file already at `path` is removed
 * first (never followed, in case it is a symlink).
 */
export async function writeLike(
  path: string,
  data: Uint8Array,
  like: FileLikeness,
): Promise<void> {
  await removeIfPresent(path);
  const file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
  try {
    await writeAll(file, data);
    await file.sync();
    if (like.uid !== null && like.gid !== null) await Deno.chown(path, like.uid, like.gid);
    await Deno.chmod(path, like.mode);
  } catch (e) {
    file.close();
    await removeIfPresent(path);
    throw e;
  }
  file.close();
}

/** Removes `path`; a missing file is not an error. */
export async function removeIfPresent(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/** Whether `path` exists (without following a final symlink). */
export async function present(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
