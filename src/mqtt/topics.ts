/** Replaces every `{host}` in a topic (or client id) template with the agent's host name. */
export function expandTopic(template: string, host: string): string {
  return template.replaceAll("{host}", host);
}

/** Whether an MQTT topic filter (with `+` and `#`) matches a concrete topic. */
export function topicMatches(filter: string, topic: string): boolean {
  if (filter === topic) return true;
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true;
    if (i >= t.length) return false;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
