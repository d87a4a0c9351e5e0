import type { Escalation } from "../executor/mod.ts";

/**
 * The event published on EventTopic when the closed loop gives up on a repair (the ESCALATED
 * record, 0x1017, went to the reporters before): the channel adds `host` and `timestamp`.
 */
export function escalationEvent(e: Escalation): Record<string, unknown> {
  return {
    event: "escalation",
    handler: e.handler,
    key: e.key,
    service: e.service,
    command: e.command,
    attempts: e.attempts,
    since: new Date(e.since).toISOString(),
    message: e.record.result.message,
    code: e.record.result.code,
  };
}
