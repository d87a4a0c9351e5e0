/**
 * What a handler returned, turned into actions: each `{ service, command, host? }` field is read
 * exactly once (a getter cannot show one value to the check and another to the agent), names
 * are looked up in a Map of the configured services (an inherited name such as `constructor`
 * or `__proto__` is just an unknown service), at most MAX_ACTIONS are taken.
 * @module
 */

/** An action as the agent receives it. */
export interface Action {
  service: string;
  command: string;
  host?: string;
}

/** Most actions one handler call may return. */
export const MAX_ACTIONS = 16;

/** Why an action was not taken: an id (warned once per handler) and the message. */
export interface Refusal {
  id: string;
  msg: string;
}

/** The configured services and their commands. */
export type Services = ReadonlyMap<string, ReadonlySet<string>>;

/** `services` as a Map (from the agent's `{ service: [commands] }`). */
export function servicesOf(config: Record<string, string[]>): Services {
  const out = new Map<string, Set<string>>();
  for (const [service, commands] of Object.entries(config)) out.set(service, new Set(commands));
  return out;
}

/**
 * The actions in `r` (one action, or a list of them; nothing/null/false entries skipped).
 * Every refusal goes to `refuse`; `describe` renders a refused value for the message.
 */
export function actionsOf(
  r: unknown,
  services: Services,
  refuse: (why: Refusal) => void,
  describe: (v: unknown) => string,
): Action[] {
  const out: Action[] = [];
  const list = Array.isArray(r) ? r as unknown[] : undefined;
  const length = list === undefined ? 1 : Number(list.length);
  if (length > MAX_ACTIONS) {
    refuse({
      id: "many",
      msg: `returned ${length} actions; only the first ${MAX_ACTIONS} are taken`,
    });
  }
  const n = Math.min(length, MAX_ACTIONS);
  for (let i = 0; i < n; i++) {
    const a: unknown = list === undefined ? r : list[i];
    if (a === undefined || a === null || a === false) continue;
    const fields = typeof a === "object" ? read(a as Record<string, unknown>) : undefined;
    if (fields === undefined) {
      const text = describe(a);
      refuse({
        id: "shape:" + text.slice(0, 200),
        msg: `returned an invalid action ${text}: expected { service, command } (strings) or ` +
          "a list of them",
      });
      continue;
    }
    const { service, command, host } = fields;
    if (host !== undefined) {
      out.push({ service, command, host });
      continue;
    }
    const commands = services.get(service);
    if (commands === undefined) {
      refuse({
        id: "svc:" + service.slice(0, 200),
        msg: `Cannot find service "${service}" in config.json Services (action not taken)`,
      });
    } else if (!commands.has(command)) {
      refuse({
        id: "cmd:" + service.slice(0, 200) + "/" + command.slice(0, 200),
        msg:
          `Cannot find command "${command}" of service "${service}" in config.json Services (action not taken)`,
      });
    } else {
      out.push({ service, command });
    }
  }
  return out;
}

/** The three fields, each read once; undefined when their types are wrong. */
function read(
  a: Record<string, unknown>,
): { service: string; command: string; host: string | undefined } | undefined {
  const service = a.service, command = a.command, host = a.host;
  if (typeof service !== "string" || typeof command !== "string") return undefined;
  if (host !== undefined && typeof host !== "string") return undefined;
  return { service, command, host };
}
