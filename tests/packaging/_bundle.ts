/** The agent as a bundled file plus a Deno runtime, in a temp folder outside the source tree. */
import { join } from "node:path";
import { parseConfig } from "../../src/config/mod.ts";
import { derivePermissions, permissionFlags } from "../../src/permissions/mod.ts";
import { run } from "../_helpers/run.ts";

const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

export interface BundledAgent {
  /** The folder holding `deno` and `edge-agent.js`. */
  dir: string;
  deno: string;
  bundle: string;
  /** `deno` arguments running the bundle with the flags derived from `configFile`. */
  args(configFile: string, options?: { notifySocket?: string }): Promise<string[]>;
  remove(): Promise<void>;
}

/** Runs scripts/bundle into a fresh temp folder and puts the runtime beside it (as the .deb does). */
export async function bundledAgent(): Promise<BundledAgent> {
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-bundle-" });
  const bundle = join(dir, "edge-agent.js");
  const deno = join(dir, "deno");
  await run(join(root, "scripts/bundle"), ["--output", bundle]);
  // The deno under .tools/ is inside the tree: the agent runs on a copy, as installed.
  await Deno.copyFile(Deno.execPath(), deno);
  await Deno.chmod(deno, 0o755);
  return {
    dir,
    deno,
    bundle,
    async args(configFile, options = {}) {
      const { config } = parseConfig(await Deno.readTextFile(configFile), configFile);
      const flags = permissionFlags(
        derivePermissions(config, { self: deno, notifySocket: options.notifySocket ?? null }),
      );
      for (const f of flags) {
        if (f.includes(root)) throw new Error(`${f} reaches into the source tree ${root}`);
      }
      return ["run", "--no-config", ...flags, bundle, "--config", configFile];
    },
    remove: () => Deno.remove(dir, { recursive: true }),
  };
}
