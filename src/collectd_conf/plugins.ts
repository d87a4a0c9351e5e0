/**
 * What collectd's plugins can do, as far as the collectd.conf policy is concerned (collectd
 * 5.12's plugin list, src/*.c). Names are lower case: collectd finds `<name>.so` ignoring case.
 * @module
 */

/**
 * Plugins a new collectd.conf may load without being named anywhere: they read the host's own
 * figures (or route, threshold, log and filter values inside collectd). `network` sends the
 * values to the servers its config names, which is what the agent needs it for; `logfile` may
 * only write where the policy's file rule allows (see policy.ts).
 */
export const READ_ONLY_PLUGINS: ReadonlySet<string> = new Set([
  "aggregation",
  "battery",
  "buddyinfo",
  "conntrack",
  "contextswitch",
  "cpu",
  "cpufreq",
  "cpusleep",
  "df",
  "disk",
  "entropy",
  "fhcount",
  "hugepages",
  "interface",
  "ipc",
  "irq",
  "load",
  "logfile",
  "match_empty_counter",
  "match_hashed",
  "match_regex",
  "match_timediff",
  "match_value",
  "md",
  "memory",
  "netlink",
  "network",
  "nfs",
  "numa",
  "processes",
  "protocols",
  "swap",
  "syslog",
  "target_notification",
  "target_replace",
  "target_scale",
  "target_set",
  "target_v5upgrade",
  "tcpconns",
  "thermal",
  "threshold",
  "uptime",
  "users",
  "vmem",
  "wireless",
  "write_log",
  "zfs_arc",
]);

const CODE = "runs code inside collectd, as root";
const READS = "reads any file the config names, as root";
const URL = "fetches any URL the config names (file:// reads local files)";
const SENDS = "sends the values to any server the config names";
const QUERY = "runs any query the config names against a database";

/**
 * Plugins never allowed implicitly, not even when the current collectd.conf loads them: only
 * by name in `Services.collectd.AllowedPlugins`. Each with what it lets a config do.
 */
export const RISKY_PLUGINS: ReadonlyMap<string, string> = new Map([
  ["exec", "runs programs, as any user the config names"],
  ["python", CODE],
  ["perl", CODE],
  ["java", CODE],
  ["lua", CODE],
  ["unixsock", "opens a control socket at any path (removing a file there) that takes commands"],
  ["email", "opens a socket at any path (removing a file there)"],
  ["powerdns", "opens a socket at any path (removing a file there)"],
  ["notify_nagios", "appends to any file (Nagios' command file), as root"],
  ["notify_email", "mails notifications through any server"],
  ["tail", READS],
  ["tail_csv", READS],
  ["logparser", READS],
  ["table", READS],
  ["openvpn", READS],
  ["uuid", "reads any file (UUIDFile) into the host name it sends"],
  ["filecount", "walks any folder, as root"],
  ["curl", URL],
  ["curl_json", URL],
  ["curl_xml", URL],
  ["curl_jolokia", URL],
  ["apache", URL],
  ["nginx", URL],
  ["ascent", URL],
  ["bind", URL],
  ["redfish", URL],
  ["write_http", "sends the values to any URL the config names"],
  ["write_stackdriver", "sends the values to any URL, with a credentials file it reads"],
  ["write_graphite", SENDS],
  ["write_influxdb_udp", SENDS],
  ["write_kafka", SENDS],
  ["write_mongodb", SENDS],
  ["write_redis", SENDS],
  ["write_riemann", SENDS],
  ["write_sensu", SENDS],
  ["write_syslog", SENDS],
  ["write_tsdb", SENDS],
  ["amqp", "sends values to and takes values from any AMQP broker"],
  ["amqp1", "sends values to any AMQP 1.0 broker"],
  ["mqtt", "sends values to and takes values from any MQTT broker"],
  ["write_prometheus", "serves every value on a network port"],
  ["snmp_agent", "serves values to SNMP clients over AgentX"],
  ["dbi", QUERY],
  ["mysql", QUERY],
  ["oracle", QUERY],
  ["postgresql", `${QUERY} (PostgreSQL's COPY ... TO PROGRAM runs programs)`],
  ["redis", "runs any Redis command the config names"],
  ["virt", "opens any libvirt URI (remote ones run ssh)"],
]);

/**
 * The name collectd loads: ASCII case folded (plugin_load matches `<name>.so` with strcasecmp,
 * which never folds other characters onto ASCII ones) and its own alias (configfile.c):
 * `libvirt` loads `virt`.
 */
export function canonicalPlugin(name: string): string {
  const lower = name.replace(/[A-Z]/g, (c) => c.toLowerCase());
  return lower === "libvirt" ? "virt" : lower;
}
