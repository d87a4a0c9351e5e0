import { z } from "zod";

/** One collectd network listener, with collectd's own option names. */
export const ListenSchema = z.strictObject({
  /** Address to bind: IPv4, IPv6, or a multicast group (joined). */
  Host: z.string().min(1),
  Port: z.number().int().min(1).max(65535).default(25826),
  /** collectd's semantics: None accepts all, Sign needs signed or encrypted, Encrypt encrypted. */
  SecurityLevel: z.enum(["None", "Sign", "Encrypt"]).default("None"),
  /** collectd-format `user: password` file; required for Sign/Encrypt. */
  AuthFile: z.string().min(1).optional(),
  /** Interface for multicast membership (name), optional. */
  Interface: z.string().min(1).optional(),
  /**
   * Socket receive buffer in bytes (SO_RCVBUF) wanted; larger absorbs bursts. Default 4 MiB
   * (DEFAULT_RECEIVE_BUFFER in src/collectd/intake.ts). Deno has no SO_RCVBUF option: a socket
   * gets net.core.rmem_default (the package's sysctl file sets it); the agent logs what it got
   * and warns when that is less.
   */
  ReceiveBuffer: z.number().int().min(0).optional(),
}).refine((l) => l.SecurityLevel === "None" || l.AuthFile !== undefined, {
  message: "SecurityLevel Sign/Encrypt needs an AuthFile (collectd's `user: password` file)",
  path: ["AuthFile"],
});

export const LISTEN_DEFAULT = [{ Host: "127.0.0.1", Port: 25826, SecurityLevel: "None" as const }];

/** Settings of the collectd intake stage. */
export const listenKeys = {
  Listen: z.array(ListenSchema).default(LISTEN_DEFAULT),
  /** types.db files; default: collectd's installed types.db where it exists. */
  TypesDB: z.array(z.string().min(1)).optional(),
  /** collectd servers that receive result notifications (network protocol). */
  NotifyServers: z.array(z.strictObject({
    Host: z.string().min(1),
    Port: z.number().int().min(1).max(65535).default(25826),
    SecurityLevel: z.enum(["None", "Sign", "Encrypt"]).default("None"),
    Username: z.string().optional(),
    Password: z.string().optional(),
  })).default([]),
};
