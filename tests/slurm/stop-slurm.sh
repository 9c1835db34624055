#!/usr/bin/env bash
# Stop what start-slurm.sh started: cancel jobs, end slurmd and slurmctld
# (by their pid files in STATE_DIR), and munged if no other SLURM uses it.
set -uo pipefail
state=$(realpath -m "${1:?usage: stop-slurm.sh STATE_DIR}")
export SLURM_CONF="$state/slurm.conf"
scancel --full --quiet --user="$(id -un)" 2>/dev/null
for daemon in slurmd slurmctld; do
  pidfile="$state/$daemon.pid"
  if [ -s "$pidfile" ]; then
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null
    for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null
  fi
done
if ! pgrep -x slurmctld >/dev/null && ! pgrep -x slurmd >/dev/null && pkill -x munged; then
  for _ in $(seq 20); do pgrep -x munged >/dev/null || break; sleep 0.25; done
fi
if [ -e "$state/linked-etc-slurm-conf" ] && [ "$(readlink /etc/slurm/slurm.conf)" = "$state/slurm.conf" ]; then
  rm -f /etc/slurm/slurm.conf "$state/linked-etc-slurm-conf"
fi
exit 0
