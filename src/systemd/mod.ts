/**
 * systemd integration: the sd_notify protocol (READY, WATCHDOG, RELOADING, STOPPING, STATUS) for
 * the packaged unit's `Type=notify` and `WatchdogSec=`.
 * @module
 */
export { createSystemdNotifier, socketAddress, watchdogInterval } from "./notifier.ts";
export type { SystemdNotifier, SystemdNotifierOptions } from "./notifier.ts";
