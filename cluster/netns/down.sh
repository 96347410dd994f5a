#!/usr/bin/env bash
# Removes every namespace, veth and the bridge made by up.sh: kills what still runs inside them
# first. Idempotent and never fails (it runs from traps).
source "$(dirname "$0")/common.sh"
for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$IFER_NS_PREFIX[0-9]*$"); do
  for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
  ip netns del "$ns" 2>/dev/null
done
for l in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^$IFER_NS_VETH[0-9]*$"); do
  ip link del "$l" 2>/dev/null
done
ip link del "$IFER_NS_BRIDGE" 2>/dev/null
exit 0
