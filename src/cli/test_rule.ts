import { basename, dirname, resolve } from "node:path";
import {
  createEvaluator,
  type Evaluator,
  formatProblem,
  HOST_SUBCOMMAND,
  parseMetric,
  parseNotification,
  parseRecording,
  runRuleHost,
} from "../evaluator/mod.ts";
import { createLogger, formatText } from "../log/mod.ts";
import { ExitCode, type Metric, type Notification, type RuleEvent } from "../model/mod.ts";
import type { CliCommand } from "./_command.ts";
import { CONFIG_OPTION, loadFromArgs } from "./_config.ts";
import { inputName, readTextInput } from "./_input.ts";

/** Items per sandbox request during a replay (each request has the time budget). */
const REPLAY_CHUNK = 200;

/**
 * `agent test-rule FILE --metric JSON | --notification JSON | --replay FILE`: evaluates one rule
 * file in the same sandbox the agent uses and prints what would fire. Never runs a command.
 */
export const testRuleCommand: CliCommand = {
  name: "test-rule",
  summary: "evaluate a rule file on given metrics/notifications or a recording; runs nothing",
  usage:
    "agent test-rule FILE (--metric JSON | --notification JSON)... [--replay FILE.jsonl | -] " +
    "[--config FILE] [--budget-ms N (default: the config's RuleBudgetMs)]",
  options: {
    ...CONFIG_OPTION,
    metric: { type: "string", multiple: true, short: "m" },
    notification: { type: "string", multiple: true, short: "n" },
    replay: { type: "string", short: "r" },
    "budget-ms": { type: "string" },
  },
  async run({ values, positionals }, io) {
    const usage = (msg: string) => {
      io.stderr(`agent test-rule: ${msg}\nUsage: ${this.usage}\n`);
      return ExitCode.USAGE;
    };
    if (positionals.length !== 1) return usage("expected one rule FILE");
    const file = resolve(positionals[0]!);
    const budgetArg = values["budget-ms"] === undefined ? undefined : Number(values["budget-ms"]);
    if (budgetArg !== undefined && !(budgetArg > 0)) return usage("--budget-ms must be > 0");
    const now = Date.now() / 1000;
    const items: (Metric | Notification)[] = [];
    try {
      for (const m of (values.metric as string[] | undefined) ?? []) {
        items.push(parseMetric(JSON.parse(m), now));
      }
      for (const n of (values.notification as string[] | undefined) ?? []) {
        items.push(parseNotification(JSON.parse(n), now));
      }
      if (typeof values.replay === "string") {
        const text = await readTextInput(values.replay);
        items.push(...parseRecording(text, inputName(values.replay)));
      }
    } catch (e) {
      return usage((e as Error).message);
    }
    if (items.length === 0) return usage("give --metric, --notification or --replay");

    const loaded = await loadFromArgs(values);
    const logger = createLogger({
      level: "info",
      sink: (e) => io.stderr(formatText(e) + "\n"),
      component: "test-rule",
    });
    const printed: RuleEvent[] = [];
    const ev: Evaluator = createEvaluator({
      rulesDir: dirname(file),
      only: [basename(file)],
      typesDbText: "",
      services: loaded.config.Services,
      logger: logger.child("rules"),
      onEvent: (e) => printed.push(e),
      watch: false,
      logProblems: false,
      budgetMs: budgetArg ?? loaded.config.RuleBudgetMs,
    });
    try {
      await ev.start();
      const mine = ev.problems.filter((p) => p.path === file || !p.file.endsWith(".ts"));
      if (ev.problems.length !== 0) {
        for (const p of ev.problems) io.stderr(formatProblem(p) + "\n");
        if (mine.length !== 0 || ev.handlers.length === 0) return ExitCode.CONFIG;
      }
      if (ev.handlers.length === 0) {
        io.stderr(`${file}: no handlers loaded\n`);
        return ExitCode.CONFIG;
      }
      io.stdout(`handlers: ${ev.handlers.join(", ")}\n`);
      let evaluations = 0;
      for (let i = 0; i < items.length; i += REPLAY_CHUNK) {
        const r = await ev.evaluate(items.slice(i, i + REPLAY_CHUNK));
        evaluations += r.evaluations;
        for (const e of printed.splice(0)) io.stdout(describe(e) + "\n");
      }
      io.stdout(
        `${items.length} item(s), ${evaluations} handler call(s); no command was run\n`,
      );
      return ExitCode.OK;
    } catch (e) {
      io.stderr(`agent test-rule: ${(e as Error).message}\n`);
      return ExitCode.RUNTIME;
    } finally {
      await ev.stop();
    }
  },
};

function describe(e: RuleEvent): string {
  const at = new Date(e.time * 1000).toISOString();
  if (e.kind === "cleared") return `${at} cleared ${e.handler} ${e.key}`;
  const actions = e.actions.map((a) => `${a.service}/${a.command}${a.host ? ` on ${a.host}` : ""}`);
  return `${at} fired ${e.handler} ${e.key}: would run ${actions.join(", ")}`;
}

/**
 * `agent __rule-host`: the sandboxed rule host the agent starts as its own child process (not
 * for operators; hidden from --help). Talks the evaluator's protocol on stdin/stdout.
 */
export const ruleHostCommand: CliCommand = {
  name: HOST_SUBCOMMAND,
  summary: "(internal) the sandboxed rule host the agent starts; not for direct use",
  usage: `agent ${HOST_SUBCOMMAND}`,
  options: {},
  hidden: true,
  run: () => runRuleHost(),
};
