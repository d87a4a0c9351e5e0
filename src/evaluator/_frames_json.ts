/**
 * JSON text of the agent ↔ rule-host protocol: a bigint (metric values, rule state) is
 * `{"$bigint": "123"}`. Rule state is plain JSON-able data by contract (docs/rules.md).
 *
 * Bundled into the rule worker with `_frames.ts` (`scripts/build_sandbox.ts`): it must stay
 * free of imports.
 */

/** `value` as JSON text, bigints tagged. */
export function toJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return JSON.stringify(
      value,
      (_k, v) => typeof v === "bigint" ? { $bigint: v.toString() } : v,
    );
  }
}

/** Parses JSON text, turning `{"$bigint": "…"}` back into bigints. */
export function parseJson(text: string): unknown {
  if (!text.includes('"$bigint"')) return JSON.parse(text);
  return JSON.parse(text, (_key, value) => {
    if (
      value !== null && typeof value === "object" && typeof value.$bigint === "string" &&
      Object.keys(value).length === 1
    ) return BigInt(value.$bigint);
    return value;
  });
}
