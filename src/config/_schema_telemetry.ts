import { z } from "zod";

/** `host:port` or `[v6]:port` (port 0 = any free port, for tests). */
const LISTEN_RE = /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/;

/** One collectd server that receives the agent's own figures (network protocol). */
export const TelemetryServerSchema = z.strictObject({
  Host: z.string().min(1),
  Port: z.number().int().min(1).max(65535).default(25826),
  /** collectd's network-plugin security: None, Sign (HMAC-SHA-256) or Encrypt (AES-256-OFB). */
  SecurityLevel: z.enum(["None", "Sign", "Encrypt"]).default("None"),
  Username: z.string().min(1).optional(),
  Password: z.string().min(1).optional(),
}).refine((s) => s.SecurityLevel === "None" || (s.Username && s.Password), {
  message: "SecurityLevel Sign/Encrypt needs a Username and a Password",
  path: ["Username"],
});

/** Settings of the agent's self-monitoring (metrics endpoint, health, own figures). */
export const TelemetrySchema = z.strictObject({
  /**
   * Address of the HTTP endpoint serving `/metrics` (Prometheus text) and `/healthz`, e.g.
   * `127.0.0.1:9102`. Absent: no endpoint (opt-in).
   */
  Listen: z.string().regex(LISTEN_RE, "expected host:port or [v6]:port, e.g. 127.0.0.1:9102")
    .refine((s) => Number(LISTEN_RE.exec(s)?.[2] ?? 0) <= 65535, "port must be at most 65535")
    .optional(),
  /** Seconds without any collectd packet after which `/healthz` reports the listener down. */
  HealthWindow: z.number().positive().default(60),
  /** collectd servers that receive the agent's own figures as value lists. Empty: off. */
  CollectdServers: z.array(TelemetryServerSchema).default([]),
  /** Seconds between two reports of the own figures to CollectdServers. */
  CollectdInterval: z.number().min(1).max(86_400).default(10),
});

/** Settings of the telemetry stage. */
export const telemetryKeys = {
  Telemetry: TelemetrySchema.prefault({}),
};
