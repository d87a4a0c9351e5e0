#!/bin/sh
# Test stand-in for a service manager: start/stop/restart one collectd in daemon mode (it writes
# the PIDFile of its config itself). The daemon is found by its exact command line.
# usage: collectdctl-daemon.sh start|stop|restart CONFIG LOGFILE
set -u
cmd=$1 conf=$2 log=$3

pids() { pgrep -x -f "/usr/sbin/collectd -C $conf"; }

start() {
  # Like collectd itself (and lua-collectd-monitor's TODO): exits 0 even when the daemon dies.
  /usr/sbin/collectd -C "$conf" >>"$log" 2>&1 </dev/null
}

stop() {
  for pid in $(pids); do kill "$pid" 2>/dev/null; done
  i=0
  while [ -n "$(pids)" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  for pid in $(pids); do kill -9 "$pid" 2>/dev/null; done
}

case $cmd in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  *) echo "unknown command $cmd" >&2; exit 2 ;;
esac
