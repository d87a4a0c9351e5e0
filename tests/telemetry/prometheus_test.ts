import assert from "node:assert/strict";
import { createCounters, MAX_SERIES_PER_NAME, OVERFLOW_LABEL } from "../../src/model/mod.ts";
import {
  escapeHelp,
  escapeLabelValue,
  formatValue,
  labelName,
  metricName,
  renderPrometheus,
} from "../../src/telemetry/prometheus.ts";

Deno.test("renderPrometheus() writes one HELP and one TYPE line per name, then its series", () => {
  const c = createCounters();
  c.counter("edge_agent_collectd_dropped_total", "datagrams dropped", { reason: "truncated" })
    .inc(3);
  c.gauge("edge_agent_mqtt_spool_depth", "results waiting").set(7);
  c.counter("edge_agent_collectd_dropped_total", "datagrams dropped", { reason: "bad_signature" })
    .inc();
  assert.equal(
    renderPrometheus(c.snapshot()),
    [
      "# HELP edge_agent_collectd_dropped_total datagrams dropped",
      "# TYPE edge_agent_collectd_dropped_total counter",
      'edge_agent_collectd_dropped_total{reason="truncated"} 3',
      'edge_agent_collectd_dropped_total{reason="bad_signature"} 1',
      "# HELP edge_agent_mqtt_spool_depth results waiting",
      "# TYPE edge_agent_mqtt_spool_depth gauge",
      "edge_agent_mqtt_spool_depth 7",
      "",
    ].join("\n"),
  );
});

Deno.test("renderPrometheus() escapes backslash, quote and newline in label values", () => {
  const c = createCounters();
  c.counter("x_total", "h", { rule: 'a\\b"c\nd' }).inc();
  assert.match(renderPrometheus(c.snapshot()), /^x_total\{rule="a\\\\b\\"c\\nd"\} 1$/m);
  assert.equal(escapeLabelValue('\\"\n'), '\\\\\\"\\n');
});

Deno.test("renderPrometheus() escapes backslash and newline in HELP but keeps quotes", () => {
  assert.equal(escapeHelp('say "hi"\\\nnext'), 'say "hi"\\\\\\nnext');
  const c = createCounters();
  c.gauge("g", "two\nlines").set(1);
  assert.match(renderPrometheus(c.snapshot()), /^# HELP g two\\nlines$/m);
});

Deno.test("renderPrometheus() keeps the first kind when one name is registered as both", () => {
  const c = createCounters();
  c.counter("dup", "first", { a: "1" }).inc();
  c.gauge("dup", "second", { a: "2" }).set(5);
  const text = renderPrometheus(c.snapshot());
  assert.equal(text.match(/# TYPE dup/g)?.length, 1);
  assert.match(text, /# TYPE dup counter/);
  assert.match(text, /dup\{a="2"\} 5/);
});

Deno.test("renderPrometheus() renders an empty registry as an empty body", () => {
  assert.equal(renderPrometheus([]), "");
});

Deno.test("metric and label names with invalid characters are made valid", () => {
  assert.equal(metricName("edge-agent.rule errors"), "edge_agent_rule_errors");
  assert.equal(metricName("9lives"), "_9lives");
  assert.equal(metricName("a:b"), "a:b");
  assert.equal(labelName("service/name"), "service_name");
  assert.equal(labelName("a:b"), "a_b");
  assert.equal(labelName("__reserved"), "label__reserved");
});

Deno.test("formatValue() uses Prometheus spellings for NaN and infinities", () => {
  assert.equal(formatValue(NaN), "NaN");
  assert.equal(formatValue(Infinity), "+Inf");
  assert.equal(formatValue(-Infinity), "-Inf");
  assert.equal(formatValue(12345678901234), "12345678901234");
  assert.equal(formatValue(0.25), "0.25");
  assert.equal(formatValue(-0), "0");
});

Deno.test("renderPrometheus() output parses line by line as the text format", () => {
  const c = createCounters();
  c.counter("a_total", "A", { x: "1", y: 'q"' }).inc(2);
  c.gauge("b", "B").set(1.5);
  const sample =
    /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*",?)*\})? \S+$/;
  for (const line of renderPrometheus(c.snapshot()).trimEnd().split("\n")) {
    assert.ok(line.startsWith("# HELP ") || line.startsWith("# TYPE ") || sample.test(line), line);
  }
});

Deno.test("renderPrometheus() turns control characters it cannot escape (NUL, CR, ESC) into U+FFFD", () => {
  const c = createCounters();
  c.counter("x_total", "help\u0000", { service: "a\u0000b\rc\u001b" }).inc();
  const text = renderPrometheus(c.snapshot());
  assert.ok(!["\u0000", "\r", "\u001b"].some((c) => text.includes(c)), JSON.stringify(text));
  assert.match(text, /^x_total\{service="a\ufffdb\ufffdc\ufffd"\} 1$/m);
  assert.match(text, /^# HELP x_total help\ufffd$/m);
});

Deno.test("a metric name's label sets are capped: beyond the cap new ones share one _overflow series", () => {
  const c = createCounters();
  for (let i = 0; i < MAX_SERIES_PER_NAME + 500; i++) {
    c.counter("x_total", "h", { service: `s${i}`, result: "ok" }).inc();
  }
  const samples = c.snapshot().filter((s) => s.name === "x_total");
  assert.equal(samples.length, MAX_SERIES_PER_NAME + 1);
  const overflow = samples.find((s) => s.labels.service === OVERFLOW_LABEL);
  assert.deepEqual(overflow?.labels, { service: OVERFLOW_LABEL, result: OVERFLOW_LABEL });
  assert.equal(overflow?.value, 500);
  c.counter("x_total", "h", { service: "s1", result: "ok" }).inc();
  assert.equal(
    c.snapshot().find((s) => s.labels.service === "s1")?.value,
    2,
    "known ones count on",
  );
});
