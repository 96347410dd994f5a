#!/usr/bin/env bash
# Installs Debian's Slurm (22.05) and munge if missing. Root only; about 20 s.
set -euo pipefail
if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null \
   && command -v munged >/dev/null; then
  exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "slurm-local: installing needs root" >&2; exit 2; }
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
  slurm-wlm slurmctld slurmd slurm-client munge
