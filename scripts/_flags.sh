# The Deno flags the agent runs with, shared by scripts/agent (development), scripts/compile (the
# binary), scripts/bundle and scripts/package_deb, so development runs under the production
# restrictions. They are derived from a config by scripts/permission_flags.ts: --allow-run only for
# the Services' executables (+ the agent itself, for the rule-host child), --allow-net only for the
# listeners, brokers and notification servers, --allow-read/--allow-write only for the config,
# rules, types.db, TLS/auth files and StateDir (+ /dev/log, $NOTIFY_SOCKET), plus the runtime's
# fixed needs. `--format explain` prints each flag with its reason (README: "Permissions").
#
# Usage (after `root=<repository>`):
#   agent_flags CONFIG_OR_EMPTY [--self PATH] [--notify-socket PATH]   fills the AGENT_FLAGS array
#   config_from_args ARGS...                                           prints --config's value

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
