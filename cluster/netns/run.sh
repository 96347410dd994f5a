#!/usr/bin/env bash
# One command across N namespace hosts, with setup and teardown whatever happens:
#   cluster/netns/run.sh N [--shape 1g] -- [mpirun args...] PROGRAM ARGS...
# e.g. cluster/netns/run.sh 3 -- .build/release/ifer dev allreduce-check
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
n=${1:?usage: run.sh N [--shape MODE] -- PROGRAM...}; shift
shape=none
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  case "$1" in --shape) shape=$2; shift 2 ;; *) echo "run.sh: unknown option $1" >&2; exit 2 ;; esac
done
[ "${1:-}" = "--" ] && shift
trap '"$here/down.sh"' EXIT
trap 'exit 130' INT TERM
"$here/down.sh"
"$here/up.sh" "$n" >/dev/null || exit 2
"$here/shape.sh" "$n" "$shape" || exit 2
"$here/mpirun.sh" "$n" "$@"
