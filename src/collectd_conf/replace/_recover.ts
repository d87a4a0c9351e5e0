import { Code, codeText, type CommandResult, renameDurable } from "../../model/mod.ts";
import { type ReplaceContext, taskOf } from "./_context.ts";
import { present, removeIfPresent } from "./_files.ts";
import type { Journal } from "./_journal.ts";
import { type CollectdControl, errText, hex, type StepFailure } from "./_restart.ts";

/** Restart on the new file and confirm; otherwise put the old file back. */
export async function afterSwap(
  ctx: ReplaceContext,
  j: Journal,
  control: CollectdControl,
  where: string,
  resumed: boolean,
): Promise<CommandResult> {
  const { clock, done } = ctx;
  const limit = ctx.timeoutMs();
  const deadline = clock.now() + limit;
  const restarted = resumed
    ? { ok: true as const }
    : await control.restart(taskOf(j), { stop: j.oldPidFile, start: j.newPidFile }, deadline);
  if (!restarted.ok) {
    // The old collectd never went away: it still runs the old config; put the file back.
    const now = await control.running(j.oldPidFile).catch(() => null); // unknown: roll back
    const oldStillRuns = j.oldPid !== null && now === j.oldPid;
    if (oldStillRuns) {
      try {
        await renameDurable(j.backup, j.config);
        return done(
          j,
          Code.CONFIG_RESTART_FAILED,
          `Failed to restart collectd: ${restarted.message}; ${j.config} is back to the old ` +
            `config and collectd (pid ${j.oldPid}) keeps running on it`,
        );
      } catch (e) {
        return rollback(ctx, j, control, {
          code: restarted.code,
          message: `${restarted.message}; restoring the old file failed: ${errText(e)}`,
        });
      }
    }
    return rollback(ctx, j, control, restarted);
  }
  const confirmed = await control.confirm(j.newPidFile, j.oldPid, deadline, j.newHost);
  if (!confirmed.ok) {
    return rollback(ctx, j, control, {
      ...confirmed,
      message: `${confirmed.message} within ${limit / 1000} s`,
    });
  }
  return done(
    j,
    Code.OK,
    `Succeeded to replace config: ${where}; collectd runs with pid ${confirmed.pid}` +
      (confirmed.metricsChecked ? " and sends metrics again" : " (metrics not checked)") +
      (resumed ? " (confirmed after an agent restart)" : ""),
  );
}

/** Puts the old file back and restarts collectd on it: 0x2007, or 0x2008. */
async function rollback(
  ctx: ReplaceContext,
  j: Journal,
  control: CollectdControl,
  cause: Pick<StepFailure, "code" | "message">,
): Promise<CommandResult> {
  const { log, journal, clock, done } = ctx;
  const failedPid = await control.running(j.newPidFile).catch(() => null);
  const rolling: Journal = {
    ...j,
    phase: "rolling_back",
    cause: { code: cause.code, message: cause.message },
  };
  log.warn("new collectd config failed; restoring the old one", {
    task_id: j.task_id,
    cause: codeText(cause.code),
    reason: cause.message,
  });
  try {
    await journal.write(rolling);
  } catch (e) {
    log.error("cannot update the replacement journal", { error: errText(e) });
  }
  const why = `New config failed (${hex(cause.code)}: ${cause.message})`;
  try {
    if (await present(j.backup)) await renameDurable(j.backup, j.config);
  } catch (e) {
    return done(
      rolling,
      Code.CONFIG_NOT_RECOVERED,
      `${why}; Failed to recover old config file: ${errText(e)}`,
    );
  }
  const deadline = clock.now() + ctx.timeoutMs();
  const pids = { stop: j.newPidFile, start: j.oldPidFile };
  const restarted = await control.restart(taskOf(j), pids, deadline);
  const confirmed = restarted.ok
    ? await control.confirm(j.oldPidFile, failedPid, deadline, j.oldHost)
    : restarted;
  if (!confirmed.ok) {
    return done(
      rolling,
      Code.CONFIG_NOT_RECOVERED,
      `${why}; the old config is back in ${j.config} but collectd did not recover on it: ` +
        confirmed.message,
    );
  }
  return done(
    rolling,
    Code.CONFIG_RECOVERED,
    `${why}; recovered: the old config is back in ${j.config} and collectd runs on it again ` +
      `(pid ${confirmed.pid})`,
  );
}

/** Finishes what the journal says was left in the middle. */
export async function resume(ctx: ReplaceContext, j: Journal): Promise<CommandResult> {
  const { log, journal, clock, done } = ctx;
  log.warn("finishing a collectd.conf replacement interrupted by an agent restart", {
    task_id: j.task_id,
    phase: j.phase,
  });
  if (j.phase === "done" && j.result) {
    await journal.clear();
    return j.result;
  }
  if (j.phase === "prepared" || (j.phase === "swapped" && await present(j.next))) {
    // Stopped before the swap: collectd.conf was never changed.
    await removeIfPresent(j.next).catch(() => {});
    return done(
      j,
      Code.CONFIG_SWAP_FAILED,
      `Failed to replace config: the agent stopped before the swap; ${j.config} is unchanged`,
    );
  }
  const control = await ctx.restarter(ctx.settings() ?? {}, j.config);
  if (j.phase === "rolling_back") {
    const cause = j.cause ?? { code: Code.CONFIG_NO_METRICS, message: "interrupted" };
    return rollback(ctx, j, control, cause);
  }
  // Swapped: collectd may or may not have been restarted before the agent stopped.
  const now = await control.running(j.newPidFile);
  if (now === null || now === j.oldPid) {
    const deadline = clock.now() + ctx.timeoutMs();
    const pids = { stop: j.oldPidFile, start: j.newPidFile };
    const restarted = await control.restart(taskOf(j), pids, deadline);
    if (!restarted.ok) return rollback(ctx, j, control, restarted);
  }
  return afterSwap(ctx, j, control, j.config, true);
}
