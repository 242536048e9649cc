#!/usr/bin/env bash
# Stops this lab host's hub and waits until it is gone, like `systemctl stop jupyterhub`. The hub
# stops its proxy on SIGTERM; a proxy left over from a killed hub is stopped too. User servers keep
# running (cleanup_servers = False). Written by hubfleet's lab harness (tests/lab).
set -euo pipefail
cd @HUB_DIR_Q@
# stop PIDFILE NEEDLE: SIGTERM, wait up to 10 s, then SIGKILL; a recycled pid (whose command line
# lacks NEEDLE) is left alone.
stop() {
    [ -f "$1" ] || return 0
    local pid
    pid="$(cat "$1")"
    if grep -qF -- "$2" "/proc/$pid/cmdline" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 100); do
            [ -e "/proc/$pid" ] || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$1"
}
stop hub.pid @HUB_DIR_Q@
stop jupyterhub-proxy.pid configurable-http-proxy
