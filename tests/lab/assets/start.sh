#!/usr/bin/env bash
# Starts this lab host's hub in the background, like `systemctl start jupyterhub`: returns at once;
# whoever started it polls the health URL. Written by hubfleet's lab harness (tests/lab).
set -euo pipefail
cd @HUB_DIR_Q@
if [ -f hub.pid ] && grep -qF @HUB_DIR_Q@ "/proc/$(cat hub.pid)/cmdline" 2>/dev/null; then
    echo "hub already running (pid $(cat hub.pid))"
    exit 0
fi
# upgrade-db runs `alembic` from PATH, so the env's bin comes first (jupyterhub issue #4436 area).
export PATH=@HUB_ENV_Q@/bin:$PATH
# setsid + nohup + all three streams redirected: an SSH channel that started us closes at once.
setsid nohup @HUB_ENV_Q@/bin/jupyterhub -f @CONFIG_Q@ >>hub.log 2>&1 </dev/null &
echo $! >hub.pid
