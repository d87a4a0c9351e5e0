/** What the include resolver reads from the file system (passed in; tests use real folders). */
export interface ConfFs {
  /** What `path` is, following symbolic links as collectd's stat() does. */
  kind(path: string): Promise<"file" | "dir" | "other" | "missing">;
  readDir(path: string): Promise<string[]>;
  readTextFile(path: string): Promise<string>;
  realPath(path: string): Promise<string>;
}

/**
 * Deno's file system. Only "does not exist" is an answer; every other error (a `NotCapable`
 * from the permission flags above all) is thrown for the caller to report as what it is.
 */
export const denoFs: ConfFs = {
  async kind(path) {
    try {
      const st = await Deno.stat(path);
      return st.isFile ? "file" : st.isDirectory ? "dir" : "other";
    } catch (e) {
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
        return "missing";
      }
      throw e;
    }
  },
  async readDir(path) {
    const names: string[] = [];
    for await (const entry of Deno.readDir(path)) names.push(entry.name);
    return names;
  },
  readTextFile: (path) => Deno.readTextFile(path),
  realPath: (path) => Deno.realPath(path),
};
