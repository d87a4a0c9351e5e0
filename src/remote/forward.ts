import {
  type Action,
  centralResultRecord,
  type CommandResult,
  type Logger,
  type RuleEvent,
  type RunRecord,
  type Trigger,
} from "../model/mod.ts";
import type { LateResult } from "./central.ts";

/** What {@linkcode forwardActions} works with. */
export interface ForwardOptions {
  /** This agent's host name: actions without `host`, or with this one, run here. */
  hostName: string;
  /** Runs the local part of a rule event (the executor's `onRuleEvent`). */
  local(e: RuleEvent): void;
  /** Central mode: sends an action to another host (the channel's `sendCommand`); null: none. */
  send: ((host: string, action: Action, trigger: Trigger) => Promise<CommandResult>) | null;
  /** Where the other host's result goes: the reporters' door, audit first. */
  report(record: RunRecord): Promise<void>;
  logger: Logger;
}

/**
 * Routes a rule event's actions: those for this host to the executor, those naming another
 * host over MQTT (central mode), each result audited and logged like a run of this agent's
 * own, with the host that ran it. Without a broker such an action is logged as impossible.
 */
export function forwardActions(options: ForwardOptions): (e: RuleEvent) => void {
  const { hostName: self, logger: log } = options;
  return (e) => {
    if (e.kind !== "fired" || e.actions.every((a) => a.host === undefined || a.host === self)) {
      options.local(e);
      return;
    }
    const local: Action[] = [];
    for (const a of e.actions) {
      if (a.host === undefined || a.host === self) {
        local.push(a);
      } else if (!options.send) {
        log.error(
          `Cannot send "${a.service}/${a.command}" to host ${a.host}: no MQTT broker configured`,
          { handler: e.handler },
        );
      } else {
        const action = { service: a.service, command: a.command };
        const sent = {
          ...action,
          host: a.host,
          trigger: { kind: "rule", handler: e.handler },
        } as const;
        void options.send(a.host, action, sent.trigger).then((r) =>
          options.report(centralResultRecord(r, sent))
        );
      }
    }
    if (local.length > 0) options.local({ ...e, actions: local });
  };
}

/** The record of a result that came after RemoteResultTimeout (a 0x1008 was reported before). */
export function lateResultRecord({ result, action, host, trigger }: LateResult): RunRecord {
  return centralResultRecord(result, { ...action, host, trigger, late: true });
}
