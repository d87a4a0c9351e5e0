/**
 * The shape of a derived permission set: each granted resource with the reason it is granted
 * (which names the config key that needs it), and its rendering as Deno command-line flags.
 * @module
 */

/** One granted resource and why (the reason starts with the config key, where there is one). */
export interface Grant {
  value: string;
  reason: string;
}

/** The permission kinds that take a list of resources. */
export type ListKind = "read" | "write" | "net" | "run" | "sys";

/** The derived permissions, by kind; {@linkcode permissionFlags} turns them into flags. */
export interface Permissions {
  read: Grant[];
  write: Grant[];
  net: Grant[];
  run: Grant[];
  sys: Grant[];
  /** Kinds granted without a list (the operator commands' `--allow-read`, `--allow-net`). */
  unrestricted: { kind: ListKind; reason: string }[];
  /** Flags taken whole, with their reasons (env, unstable features, no prompt). */
  fixed: Grant[];
}

/** A config the flags cannot express (e.g. a path holding a comma), or one that cannot run. */
export class PermissionDerivationError extends Error {
  override name = "PermissionDerivationError";
}

/** An empty permission set. */
export function emptyPermissions(): Permissions {
  return { read: [], write: [], net: [], run: [], sys: [], unrestricted: [], fixed: [] };
}

/**
 * Adds `value` to `p[kind]` for `reason` (a second reason for the same value is appended).
 * Throws {@linkcode PermissionDerivationError} for a value Deno's comma-separated lists cannot
 * hold.
 */
export function grant(p: Permissions, kind: ListKind, value: string, reason: string): void {
  if (value.includes(",")) {
    throw new PermissionDerivationError(
      `Cannot grant ${kind} access to "${value}" (${reason}): Deno's permission flags are ` +
        `comma-separated, so the value must not contain a comma`,
    );
  }
  const have = p[kind].find((g) => g.value === value);
  if (!have) p[kind].push({ value, reason });
  else if (!have.reason.split("; ").includes(reason)) have.reason += `; ${reason}`;
}

/** The Deno command-line flags for `p`, in a stable order. */
export function permissionFlags(p: Permissions): string[] {
  const out = p.fixed.map((g) => g.value);
  for (const kind of ["read", "write", "net", "run", "sys"] as const) {
    if (p.unrestricted.some((u) => u.kind === kind)) out.push(`--allow-${kind}`);
    else if (p[kind].length) out.push(`--allow-${kind}=${p[kind].map((g) => g.value).join(",")}`);
  }
  return out;
}

/** One line per granted resource: `--allow-read  /etc/edge-agent/config.json  (reason)`. */
export function explain(p: Permissions): string {
  const lines: string[] = [];
  for (const kind of ["read", "write", "net", "run", "sys"] as const) {
    const whole = p.unrestricted.find((u) => u.kind === kind);
    if (whole) lines.push(`--allow-${kind}  (every ${kind}: ${whole.reason})`);
    else for (const g of p[kind]) lines.push(`--allow-${kind}  ${g.value}  (${g.reason})`);
  }
  for (const g of p.fixed) lines.push(`${g.value}  (${g.reason})`);
  return lines.join("\n");
}
