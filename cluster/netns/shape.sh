#!/usr/bin/env bash
# Limits every host's link to a NIC rate with tbf on both veth ends. Usage: shape.sh N none|1g|10g
# netem (delay) is not in this kernel, so only rate is emulated (docs/benchmarks.md).
set -euo pipefail
source "$(dirname "$0")/common.sh"
n=${1:?usage: shape.sh N none|1g|10g}; mode=${2:?usage: shape.sh N none|1g|10g}
case "$mode" in
  1g) spec="rate 1gbit burst 64kb latency 50ms" ;;   # latency 5ms dropped hundreds of packets
  10g) spec="rate 10gbit burst 512kb latency 50ms" ;;
  none) spec="" ;;
  *) echo "shape.sh: mode must be none, 1g or 10g, got '$mode'" >&2; exit 2 ;;
esac
for i in $(seq 1 "$n"); do
  if [ -z "$spec" ]; then
    tc -n "$IFER_NS_PREFIX$i" qdisc del dev eth0 root 2>/dev/null || true
    tc qdisc del dev "$IFER_NS_VETH$i" root 2>/dev/null || true
  else
    # shellcheck disable=SC2086
    tc -n "$IFER_NS_PREFIX$i" qdisc replace dev eth0 root tbf $spec      # the host's TX
    # shellcheck disable=SC2086
    tc qdisc replace dev "$IFER_NS_VETH$i" root tbf $spec                 # the host's RX
  fi
done
