import assert from "node:assert/strict";
import { expandTopic, topicMatches } from "../../src/mqtt/mod.ts";

Deno.test("expandTopic() replaces every {host}", () => {
  assert.equal(expandTopic("fleet/{host}/cmd/{host}", "edge1"), "fleet/edge1/cmd/edge1");
  assert.equal(expandTopic("test-topic", "edge1"), "test-topic");
});

Deno.test("topicMatches() follows MQTT wildcards", () => {
  assert.ok(topicMatches("a/+/c", "a/b/c"));
  assert.ok(topicMatches("a/#", "a/b/c"));
  assert.ok(!topicMatches("a/+", "a/b/c"));
  assert.ok(!topicMatches("a/b", "a/c"));
  assert.ok(topicMatches("a/b", "a/b"));
});
