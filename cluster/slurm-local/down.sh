#!/usr/bin/env bash
# Stops the Slurm of up.sh STATE_DIR: cancels jobs, shuts slurmctld + slurmd down, stops munged.
# Never fails (it runs from traps); the state folder is left for the logs (delete it yourself).
state=${1:?usage: down.sh STATE_DIR}
export SLURM_CONF=$state/etc/slurm.conf
[ -f "$SLURM_CONF" ] || exit 0
jobs=$(squeue -h -o %i 2>/dev/null)
# shellcheck disable=SC2086
[ -n "$jobs" ] && scancel --full $jobs 2>/dev/null && sleep 1
scontrol shutdown >/dev/null 2>&1
for f in slurmctld slurmd; do
  pid=$(cat "$state/run/$f.pid" 2>/dev/null)
  for _ in $(seq 1 50); do [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
done
# slurmstepd of a job that outlived slurmd
for pid in $(pgrep -x slurmstepd 2>/dev/null); do
  grep -qs "$state" "/proc/$pid/environ" && kill -9 "$pid" 2>/dev/null
done
pid=$(cat "$state/munge/munged.pid" 2>/dev/null)
[ -n "$pid" ] && kill "$pid" 2>/dev/null
exit 0
