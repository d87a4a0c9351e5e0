# The Deno flags the agent runs with, shared by scripts/agent (development) and the compile
# script (the binary), so development runs under the production restrictions.
# Until the packaging issue derives least-privilege flags from a config, this is a fixed list:
#   --unstable-worker-options  rule workers with `permissions: "none"`
#   --unstable-net             Deno.listenDatagram (collectd listener)
#   --allow-read / --allow-write   config, rules, types.db, StateDir, /dev/log (syslog)
#   --allow-net                collectd listen addresses, MQTT brokers
#   --allow-env                npm:mqtt's dependencies enumerate the environment
#   --allow-run                recovery commands from Services, and the rule-host child process
#   --allow-sys=hostname       the agent's host name ({host} in topics, notifications)
AGENT_FLAGS=(
  --unstable-worker-options --unstable-net
  --allow-read --allow-write --allow-net --allow-env --allow-run --allow-sys=hostname
  --no-prompt
)
