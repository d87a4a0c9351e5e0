/**
 * What a process holds against what a config needs: the check behind "a reload that needs more
 * is refused" (the daemon asks its own permissions) and behind `check-config` (which asks the
 * permissions the installed package was built with).
 * @module
 */
import { z } from "zod";
import type { ListKind, Permissions } from "./grants.ts";
import { isDenied } from "../model/mod.ts";

/** Whether a permission is held. */
export type Holds = (kind: ListKind, value: string) => boolean;

/** The running process's own permissions (`Deno.permissions.querySync`). */
export const processHolds: Holds = (kind, value) =>
  Deno.permissions.querySync(descriptor(kind, value)).state === "granted";

function descriptor(kind: ListKind, value: string): Deno.PermissionDescriptor {
  switch (kind) {
    case "read":
    case "write":
      return { name: kind, path: value };
    case "net":
      return { name: "net", host: value };
    case "run":
      return { name: "run", command: value };
    case "sys":
      return { name: "sys", kind: value as NonNullable<Deno.SysPermissionDescriptor["kind"]> };
  }
}

/** The permissions of `held` as Deno grants them: a folder grants what is under it. */
export function grantsHold(held: Permissions): Holds {
  return (kind, value) => {
    if (held.unrestricted.some((u) => u.kind === kind)) return true;
    return held[kind].some((g) =>
      g.value === value ||
      ((kind === "read" || kind === "write") && value.startsWith(g.value.replace(/\/?$/, "/")))
    );
  };
}

/** One grant `needed` has and the holder lacks. */
export interface MissingGrant {
  kind: ListKind;
  value: string;
  reason: string;
}

/** Every grant of `needed` that `holds` does not hold. */
export function missingGrants(needed: Permissions, holds: Holds): MissingGrant[] {
  const out: MissingGrant[] = [];
  for (const kind of ["read", "write", "net", "run", "sys"] as const) {
    if (needed.unrestricted.some((u) => u.kind === kind) && !holds(kind, "")) {
      out.push({ kind, value: "", reason: "every resource" });
    }
    for (const g of needed[kind]) {
      if (!holds(kind, g.value)) out.push({ kind, value: g.value, reason: g.reason });
    }
  }
  return out;
}

/** `  - Services.x.commands.y: recovery command: --allow-run=/usr/bin/x`, one line each. */
export function describeMissing(missing: readonly MissingGrant[]): string {
  return missing.map((m) => `  - ${m.reason}: --allow-${m.kind}${m.value ? `=${m.value}` : ""}`)
    .join("\n");
}

/**
 * The environment variable a packaged launcher sets to its permissions file: the flags there
 * were fixed when the package was built (unset: they were derived when the process started).
 */
export const PERMISSIONS_ENV = "EDGE_AGENT_PERMISSIONS";

const GrantSchema = z.strictObject({ value: z.string(), reason: z.string() });
const KindSchema = z.enum(["read", "write", "net", "run", "sys"]);
const PermissionsSchema = z.strictObject({
  read: z.array(GrantSchema),
  write: z.array(GrantSchema),
  net: z.array(GrantSchema),
  run: z.array(GrantSchema),
  sys: z.array(GrantSchema),
  unrestricted: z.array(z.strictObject({ kind: KindSchema, reason: z.string() })),
  fixed: z.array(GrantSchema),
});

/** The permissions file a package installs (`/usr/lib/edge-agent/permissions.json`). */
export const PackagedPermissionsSchema = z.strictObject({
  /** The config the flags were derived from, as installed. */
  config: z.string(),
  /** The daemon's own executable, as installed (it runs itself as the rule host). */
  self: z.string(),
  daemon: PermissionsSchema,
  operator: PermissionsSchema,
});
export type PackagedPermissions = z.infer<typeof PackagedPermissionsSchema>;

/** Reads the packaged permissions file named by `$EDGE_AGENT_PERMISSIONS`, or null when unset. */
export async function readPackagedPermissions(
  path: string | undefined = Deno.env.get(PERMISSIONS_ENV),
): Promise<{ path: string; permissions: PackagedPermissions } | null> {
  if (!path) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new Error(`Cannot read the package's permissions ${path}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const parsed = PackagedPermissionsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`Invalid permissions file ${path}: ${z.prettifyError(parsed.error)}`);
  }
  return { path, permissions: parsed.data };
}

/** How new permissions take effect, by where the process's flags come from. */
export function howToApply(
  packagedFile: string | undefined = Deno.env.get(PERMISSIONS_ENV),
): string {
  return packagedFile
    ? `the installed package's flags were fixed when it was built (${packagedFile}): rebuild ` +
      "the package from the new config (scripts/package_deb --config FILE) and install it; " +
      "restarting the agent does not change them"
    : "the agent's flags are derived from its config when it starts (scripts/agent): a restart " +
      "of the agent applies it";
}

/**
 * The error a reload throws when the new config could not start: a permission the running
 * agent's flags lack is said as such, with how to apply a config that needs more (a new
 * address, executable or path); any other error is returned as it is.
 */
export function reloadError(e: unknown): unknown {
  if (!isDenied(e)) return e;
  return new Error(
    `${(e as Error).message}. The agent runs with the least permissions its config ` +
      `needed; a config that needs more (a new address, executable or path): ${howToApply()}`,
    { cause: e },
  );
}
