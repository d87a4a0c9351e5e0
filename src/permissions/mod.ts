/**
 * The least-privilege model: the Deno permission flags a config needs, each with the config key
 * it is granted for. The daemon (`run`, its rule host) holds {@linkcode derivePermissions}; the
 * operator commands hold {@linkcode operatorPermissions}. scripts/permission_flags.ts prints
 * them; scripts/agent, scripts/compile and the packages start the program with them.
 * @module
 */
export {
  emptyPermissions,
  explain,
  type Grant,
  grant,
  type ListKind,
  PermissionDerivationError,
  permissionFlags,
  type Permissions,
} from "./grants.ts";
export {
  AGENT_V8_FLAGS,
  type DeriveOptions,
  derivePermissions,
  hostPort,
  NOTIFY_BIND_NAME,
  PACKAGED_TYPES_DB,
  SYSLOG_BIND_NAME,
} from "./daemon.ts";
export { OPERATOR_COMMANDS, type OperatorOptions, operatorPermissions } from "./operator.ts";
export { collectdConfReads } from "./_collectd.ts";
export {
  describeMissing,
  grantsHold,
  type Holds,
  howToApply,
  type MissingGrant,
  missingGrants,
  type PackagedPermissions,
  PackagedPermissionsSchema,
  PERMISSIONS_ENV,
  processHolds,
  readPackagedPermissions,
  reloadError,
} from "./held.ts";
