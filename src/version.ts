import denoJson from "../deno.json" with { type: "json" };

/** The agent's version, from deno.json (embedded in the compiled binary). */
export const VERSION: string = denoJson.version;
