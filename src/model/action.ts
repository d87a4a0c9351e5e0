/**
 * What a rule handler (or a remote operator) asks for: run the pre-defined `command` of
 * `service` from config.json. With `host`, the action targets another agent (central mode).
 */
export interface Action {
  service: string;
  command: string;
  host?: string;
}

/** Who asked for a run: a rule handler (`file::metric::name`) or a remote task. */
export type Trigger =
  | { kind: "rule"; handler: string }
  | { kind: "remote"; task_id: number | string; sender?: string }
  | { kind: "cli" };

/** The trigger of a remote task, with its sender when the command named one. */
export function remoteTrigger(taskId: number | string, sender?: string | undefined): Trigger {
  return sender === undefined
    ? { kind: "remote", task_id: taskId }
    : { kind: "remote", task_id: taskId, sender };
}
