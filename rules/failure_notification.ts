/**
 * Notification example (lua-collectd-monitor's fail_example): run "hello/exec" when a collectd
 * plugin reports a failure. Severity: 1 failure, 2 warning, 4 okay. The agent's own result
 * notifications never reach notification handlers.
 */
import type { NotificationHandlers } from "./edge-agent.d.ts";

const FAILURE = 1;

export const notifications = {
  fail_example(notification) {
    if (notification.severity === FAILURE) return { service: "hello", command: "exec" };
  },
} satisfies NotificationHandlers;
