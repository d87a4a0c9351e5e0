# The Deno flags the agent runs with, shared by scripts/agent (development), scripts/compile (the
# binary) and scripts/package_deb (the packaged launcher), so development runs under the
# production restrictions. They are derived from a config by scripts/permission_flags.ts (the
# model is src/permissions/), in two roles:
#   daemon    `agent run` and its rule host: --allow-run only for the Services' executables (+ the
#             agent itself), --allow-net only for listeners, brokers and notification servers,
#             --allow-read/--allow-write only for the config, rules, types.db, TLS/auth files,
#             StateDir and what collectd.conf replacement touches (docs/packaging.md: "Permissions");
#   operator  the operator commands beside it (check-config, maintenance, send-command,
#             send-config, status, test-rule): read any file and reach any broker the operator
#             names, write only StateDir, run only themselves.
# `--format explain` prints each flag with its reason.
#
# Usage (after `root=<repository>`):
#   agent_flags CONFIG_OR_EMPTY [--role daemon|operator] [--self PATH] [--notify-socket PATH] ...
#                                                     fills the AGENT_FLAGS array
#   config_from_args ARGS...                          prints --config's value
#   role_for ARGS...                                  prints the role a command line runs with

# src/permissions/operator.ts OPERATOR_COMMANDS (tests/permissions compares the two lists).
OPERATOR_COMMANDS=(check-config maintenance send-command send-config status test-rule)

agent_flags() {
  local config="$1"
  shift
  local args=()
  [ -n "$config" ] && args+=(--config "$config")
  local out
  out="$("$root/scripts/deno" run --config "$root/deno.json" --no-prompt --allow-read --allow-env \
    "$root/scripts/permission_flags.ts" "${args[@]}" "$@")" || return $?
  mapfile -t AGENT_FLAGS <<<"$out"
}

# The config file an `agent` command line names (--config FILE, --config=FILE, -c FILE, -cFILE).
config_from_args() {
  local found=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --config | -c) found="${2:-}"; shift ;;
      --config=*) found="${1#--config=}" ;;
      -c?*) found="${1#-c}" ;;
      --) break ;;
    esac
    shift
  done
  printf '%s' "$found"
}

# "operator" when the command line starts with an operator command, else "daemon" (`run`, the
# default command, the rule host, --help, --version).
role_for() {
  local c
  for c in "${OPERATOR_COMMANDS[@]}"; do
    if [ "${1:-}" = "$c" ]; then
      echo operator
      return
    fi
  done
  echo daemon
}
