/** Sample reports for the status tests: every section filled. */
import type { RunningReport, StoppedReport } from "../../src/status/mod.ts";

export const NOW = "2026-11-23T12:00:00.000Z";

export function runningReport(): RunningReport {
  return {
    version: 1,
    running: true,
    time: NOW,
    agent: {
      pid: 4242,
      version: "0.1.0",
      started_at: "2026-11-23T10:00:00.000Z",
      uptime_s: 7200,
      config: {
        file: "/etc/edge-agent/config.json",
        sha256: "8bad1e3f04beb7a69d913b9f3076dd9b440fd4d7b55b0c762c37eaceb3749deb",
        changed_on_disk: false,
      },
      mode: "mqtt",
      state_dir: "/var/lib/edge-agent",
    },
    intake: {
      listeners: ["127.0.0.1:25826"],
      window_s: 60,
      packets_per_s: 2,
      values_per_s: 17.5,
      packets_total: 14400,
      values_total: 126000,
      last_packet_age_s: 0.4,
      drops: [{ stage: "intake", reason: "bad_signature", total: 3, last_minute: 1 }],
    },
    rules: {
      dir: "/etc/edge-agent/rules",
      files: 2,
      handlers: 3,
      disabled: [{
        name: "spin.ts::metric::spin",
        kind: "handler",
        reason: "ran past the 50 ms budget (stopped after 51 ms) (offence 3 of 3)",
        enable: "fix /etc/edge-agent/rules/spin.ts and save it (a changed file is reloaded), " +
          "or reload the agent (systemctl reload edge-agent, or SIGHUP): a reload re-enables " +
          "every disabled rule",
      }],
      problems: [{ file: "/etc/edge-agent/rules/bad.ts", line: 3, message: "Unexpected token" }],
      firing: [{
        handler: "nginx.ts::metric::down",
        key: "web1/processes-nginx/ps_count",
        since: "2026-11-23T11:57:00.000Z",
      }],
      host_restarts: 3,
    },
    recovery: {
      last_runs: [{
        time: "2026-11-23T11:57:01.000Z",
        task_id: "mxc-1",
        trigger: "rule",
        trigger_name: "nginx.ts::metric::down",
        service: "nginx",
        command: "restart",
        code: 0,
        duration_ms: 812.5,
        message: "",
      }, {
        time: "2026-11-23T11:58:00.000Z",
        task_id: 4201,
        trigger: "remote",
        trigger_name: "remote:4201@ops",
        service: "nginx",
        command: "reload",
        code: 0x1011,
        duration_ms: 0,
        message: 'busy: service "nginx" is already running a command',
      }],
      running: [{
        service: "app",
        command: "restart",
        trigger_name: "cli",
        since: "2026-11-23T11:59:58.000Z",
      }],
      held: [{
        handler: "nginx.ts::metric::down",
        key: "web2/processes-nginx/ps_count",
        service: "nginx",
        command: "restart",
        state: "cooldown",
        attempts: 0,
        since: "2026-11-23T11:59:00.000Z",
        at: "2026-11-23T12:02:01.000Z",
      }],
      verifying: [{
        handler: "nginx.ts::metric::down",
        key: "web1/processes-nginx/ps_count",
        service: "nginx",
        command: "restart",
        state: "verifying",
        attempts: 1,
        since: "2026-11-23T11:57:01.000Z",
        at: "2026-11-23T12:00:01.000Z",
      }],
      escalations: [],
    },
    maintenance: {
      on: true,
      since: "2026-11-23T11:30:00.000Z",
      until: "2026-11-23T13:30:00.000Z",
      reason: "kernel upgrade",
      by: "cli",
    },
    broker: {
      configured: ["mqtt-a.example:8883", "mqtt-b.example:8883"],
      connected: true,
      broker: "mqtt-a.example:8883",
      since: "2026-11-23T10:00:02.000Z",
      spool: 0,
      failures: [],
    },
    omitted: {},
    notes: [],
  };
}

export function stoppedReport(): StoppedReport {
  return {
    version: 1,
    running: false,
    time: NOW,
    reason: "no status socket /var/lib/edge-agent/status.sock",
    state_dir: "/var/lib/edge-agent",
    config: { file: "/etc/edge-agent/config.json", sha256: "8bad1e3f04beb7a6" },
    recovery: { last_runs: runningReport().recovery.last_runs },
    maintenance: { on: false },
    notes: ["/var/lib/edge-agent/audit.jsonl: 1 unreadable line(s) skipped"],
  };
}
