#!/bin/sh
# Test stand-in for a service manager: start/stop/restart one collectd by its pid file.
# usage: collectdctl.sh start|stop|restart CONFIG PIDFILE LOGFILE
set -u
cmd=$1 conf=$2 pidfile=$3 log=$4

alive() { [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* (.*) [ZX]' "/proc/$1/stat"; }

start() {
  setsid /usr/sbin/collectd -f -C "$conf" >>"$log" 2>&1 </dev/null &
  echo $! >"$pidfile"
}

stop() {
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null
  i=0
  while alive "$pid" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  if alive "$pid"; then kill -9 "$pid" 2>/dev/null; fi
  rm -f "$pidfile"
}

case $cmd in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  *) echo "unknown command $cmd" >&2; exit 2 ;;
esac
