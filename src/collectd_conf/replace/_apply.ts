import { createHash } from "node:crypto";
import { Code, type CommandResult, renameDurable } from "../../model/mod.ts";
import { includeDirsFor, vetCollectdConf } from "../mod.ts";
import type { CollectdServiceSettings, ReplaceContext } from "./_context.ts";
import { likenessOf, removeIfPresent, writeLike } from "./_files.ts";
import type { Journal } from "./_journal.ts";
import {
  locateBinary,
  locateConfig,
  pidFileFor,
  type ReplacePaths,
  topLevelOption,
} from "./_paths.ts";
import { afterSwap } from "./_recover.ts";
import { type CollectdControl, errText } from "./_restart.ts";

/** The replacement's task as its message gave it. */
export interface Task {
  task_id: Journal["task_id"];
  timestamp: string;
  sender?: string;
}

/**
 * Replaces collectd.conf with `text`: the agent's own reading (vet), then the new file beside
 * the old one, collectd's check, the backup and the atomic swap, each step journalled; then the
 * restart and its confirmation (_recover.ts).
 */
export async function replaceText(
  ctx: ReplaceContext,
  j0: Task,
  text: string,
): Promise<CommandResult> {
  const { log, finish } = ctx;
  const service = ctx.settings();
  if (service === undefined) {
    return finish(
      j0,
      Code.NO_SERVICE,
      'no "collectd" service in Services: collectd.conf replacement needs Services.collectd ' +
        '(at least {"collectd": {}}, or lua-collectd-monitor\'s {"ConfigPath": …})',
    );
  }
  const paths = locateConfig(service.ConfigPath);
  if (paths === null) {
    return finish(
      j0,
      Code.CONFIG_WRITE_FAILED,
      "no collectd.conf found at the usual locations; set Services.collectd.ConfigPath",
    );
  }
  if (paths.searched) log.info("using the collectd.conf found", { path: paths.config });
  let control: CollectdControl;
  try {
    control = await ctx.restarter(service, paths.config);
  } catch (e) {
    const why = `Cannot tell how collectd runs here: ${errText(e)}; nothing was changed`;
    return finish(j0, Code.CONFIG_RESTART_FAILED, why);
  }
  const bytes = new TextEncoder().encode(text);
  const sha = createHash("sha256").update(bytes).digest("hex");
  log.info("replacing collectd.conf", {
    task_id: j0.task_id,
    ...(j0.sender === undefined ? {} : { sender: j0.sender }),
    path: paths.config,
    bytes: bytes.length,
    sha256: sha,
  });
  const where = paths.searched ? `${paths.config} (found at a usual location)` : paths.config;

  // 0. the agent's own reading (syntax, includes, plugin policy): collectd never sees a refused
  // text, not even for the check (collectd -T runs exec programs and Python code) (0x2010)
  const verdict = await vetCollectdConf(text, {
    configPath: paths.config,
    ownFiles: [paths.config, paths.next, paths.backup],
    allowedPlugins: service.AllowedPlugins,
    includeDirs: includeDirsFor([paths.config], service.IncludeDirs),
    pidPath: service.PIDPath,
  });
  if (!verdict.ok) {
    return finish(
      j0,
      verdict.code,
      `${verdict.message}; ${paths.config} is unchanged and collectd was not restarted ` +
        "(nor run on the new text)",
    );
  }
  if (verdict.notes.length) {
    log.warn("parts of the current collectd.conf could not be read for the plugin policy", {
      notes: verdict.notes,
    });
  }

  return swapIn(ctx, j0, text, { service, paths, control, bytes, sha, where });
}

/** Steps 1 to 4 (new file, check, backup, swap) for a text that passed the vetting. */
async function swapIn(
  ctx: ReplaceContext,
  j0: Task,
  text: string,
  p: {
    service: CollectdServiceSettings;
    paths: ReplacePaths;
    control: CollectdControl;
    bytes: Uint8Array;
    sha: string;
    where: string;
  },
): Promise<CommandResult> {
  const { log, clock, journal, finish } = ctx;
  const { service, paths, control, bytes, sha } = p;
  // 1. the new file, next to the old one, with its owner and mode (0x2001)
  let oldText: string;
  try {
    oldText = await Deno.readTextFile(paths.config);
    await writeLike(paths.next, bytes, await likenessOf(paths.config));
  } catch (e) {
    return finish(j0, Code.CONFIG_WRITE_FAILED, `Failed to write new config: ${errText(e)}`);
  }
  const oldPidFile = pidFileFor(oldText, paths.config, service.PIDPath);
  let oldPid: number | null;
  try {
    oldPid = await control.running(oldPidFile);
  } catch (e) {
    await removeIfPresent(paths.next).catch(() => {});
    const why = `Cannot tell whether collectd runs: ${errText(e)}; nothing was changed`;
    return finish(j0, Code.CONFIG_RESTART_FAILED, why);
  }
  const j: Journal = {
    ...j0,
    phase: "prepared",
    config: paths.config,
    next: paths.next,
    backup: paths.backup,
    oldPid,
    oldPidFile,
    newPidFile: pidFileFor(text, paths.config, service.PIDPath),
    ...hostOf("oldHost", oldText),
    ...hostOf("newHost", text),
    newSha256: sha,
    startedAt: clock.now(),
  };
  const abandon = async (code: number, message: string) => {
    await removeIfPresent(paths.next).catch(() => {});
    const result = finish(j, code, message);
    await journal.clear().catch(() => {});
    return result;
  };
  try {
    await journal.write(j);
  } catch (e) {
    return abandon(Code.CONFIG_WRITE_FAILED, `Cannot record the task in StateDir: ${errText(e)}`);
  }

  // 2. check it (0x2002: old file untouched, collectd not restarted)
  const binary = locateBinary(service.CommandPath);
  const check = await ctx.checker(binary)(paths.next);
  if (!check.ok) {
    log.debug("collectd rejected the new config", { output: check.output });
    return abandon(
      Code.CONFIG_INVALID,
      `New config seems broken: ${check.output || "collectd's check failed"}; ` +
        `${paths.config} is unchanged and collectd was not restarted`,
    );
  }

  // 3. backup (0x2005), 4. atomic swap (0x2006)
  try {
    await writeLike(
      paths.backup,
      new TextEncoder().encode(oldText),
      await likenessOf(paths.config),
    );
  } catch (e) {
    return abandon(Code.CONFIG_BACKUP_FAILED, `Failed to back up old config: ${errText(e)}`);
  }
  try {
    await journal.write({ ...j, phase: "swapped" });
    await renameDurable(paths.next, paths.config);
  } catch (e) {
    return abandon(Code.CONFIG_SWAP_FAILED, `Failed to replace config: ${errText(e)}`);
  }
  j.phase = "swapped";
  return afterSwap(ctx, j, control, p.where, false);
}

/** `{ [key]: Hostname }` when the config names its host (its metrics carry that name). */
function hostOf<K extends "oldHost" | "newHost">(key: K, text: string): { [P in K]?: string } {
  const host = topLevelOption(text, "Hostname");
  return (host === null ? {} : { [key]: host }) as { [P in K]?: string };
}
