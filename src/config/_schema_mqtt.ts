import { z } from "zod";

/** One party allowed to sign commands (HMAC-SHA-256 key shared with it). */
export const CommandSenderSchema = z.strictObject({
  /** The `sender` value its commands carry. */
  Name: z.string().min(1),
  /** The shared HMAC key (at least 16 characters). */
  Secret: z.string().min(16),
});

/** Settings of the MQTT command channel (lua-collectd-monitor's names, plus new ones). */
export const mqttKeys = {
  /** Broker `host` or `host:port`, or a list of them (redundant brokers). Absent: local-only. */
  Host: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  User: z.string().optional(),
  Password: z.string().optional(),
  /** TLS to the broker. */
  Secure: z.boolean().default(false),
  /** PEM file of the CA(s) that signed the broker's certificate (TLS). Default: system store. */
  CAFile: z.string().min(1).optional(),
  /** PEM client certificate for mutual TLS (with KeyFile). */
  CertFile: z.string().min(1).optional(),
  /** PEM private key of CertFile. */
  KeyFile: z.string().min(1).optional(),
  /** Name the broker's certificate must carry (default: the host of the address). */
  ServerName: z.string().min(1).optional(),
  /** MQTT protocol version: 4 = MQTT 3.1.1, 5 = MQTT 5. */
  ProtocolVersion: z.union([z.literal(4), z.literal(5)]).default(4),
  /** MQTT client id; `{host}` is replaced. Stable so a persistent session survives restarts. */
  ClientId: z.string().min(1).default("edge-agent-{host}"),
  /** The agent's host name for `{host}` and the `host` field (default: the OS host name). */
  HostName: z.string().min(1).max(253).regex(/^[^/+#{}]+$/, "must not contain / + # { }")
    .optional(),
  CleanSession: z.boolean().default(false),
  /** Seconds between reconnect attempts. */
  ReconnectInterval: z.number().positive().default(5),
  QoS: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(2),
  CommandTopic: z.string().min(1).optional(),
  CommandResultTopic: z.string().min(1).optional(),
  /** Retained liveness topic (`{host}` replaced): online on connect, offline as last will. */
  StatusTopic: z.string().min(1).optional(),
  /** Seconds between re-publishes of the online status (its figures are live); 0: on connect only. */
  StatusInterval: z.number().min(0).default(60),
  /** Events (`{host}` replaced): escalations of repairs that do not work. Absent: none. */
  EventTopic: z.string().min(1).optional(),
  /** Seconds: a command whose `timestamp` is older is refused (0x1005). 0 = no limit. */
  MaxCommandAge: z.number().min(0).default(3600),
  /** Seconds a command's `timestamp` may lie ahead of the agent's clock (with MaxCommandAge). */
  MaxClockSkew: z.number().min(0).max(86_400).default(300),
  /** When non-empty, every command must be HMAC-SHA-256 signed by one of these senders. */
  CommandSenders: z.array(CommandSenderSchema).default([]),
  /**
   * When non-empty, collectd.conf replacements must be signed by one of these (CommandSenders
   * then sign the other commands only): many may restart services, few may replace configs.
   */
  ConfigSenders: z.array(CommandSenderSchema).default([]),
  /** Signs the commands this agent sends (central mode, send-command). */
  SignAs: CommandSenderSchema.optional(),
  /** Results kept in the spool while the broker has not acknowledged them; oldest dropped. */
  SpoolMaxResults: z.number().int().min(1).default(10000),
  /** Central mode: seconds to wait for another host's result. */
  RemoteResultTimeout: z.number().positive().default(300),
};
