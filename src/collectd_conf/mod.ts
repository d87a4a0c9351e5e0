/**
 * collectd.conf as the agent reads it before collectd may: collectd's grammar, its `Include`,
 * and the policy a replacement must pass (plugins, include folders, file options). A refused
 * text never reaches collectd, not even `collectd -T` (which runs exec programs and Python).
 * The replacement itself is in replace/.
 * @module
 */
export { type ConfFs, denoFs } from "./_fs.ts";
export { type ConfItem, type ConfValue, parseCollectdConf, type ParseResult } from "./parse.ts";
export {
  type IncludeOptions,
  type IncludeProblem,
  type IncludeResult,
  type Located,
  resolveIncludes,
} from "./include.ts";
export { checkPolicy, pluginsLoaded, type PolicyOptions } from "./policy.ts";
export { canonicalPlugin, READ_ONLY_PLUGINS, RISKY_PLUGINS } from "./plugins.ts";
export { includeDirsFor, type Verdict, vetCollectdConf, type VetOptions } from "./vet.ts";
