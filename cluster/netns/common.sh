# Sourced by the cluster/netns scripts: names and addresses of the emulated hosts.
# Host i (1-based) is network namespace ${IFER_NS_PREFIX}i with eth0 = ${IFER_NS_NET}.i/24; the
# hosts hang off bridge $IFER_NS_BRIDGE (${IFER_NS_NET}.254, no uplink, no forwarding), so every
# packet stays inside these namespaces.
IFER_NS_PREFIX=${IFER_NS_PREFIX:-ifern}
IFER_NS_BRIDGE=${IFER_NS_BRIDGE:-iferbr0}
IFER_NS_NET=${IFER_NS_NET:-10.99.0}
IFER_NS_VETH=${IFER_NS_VETH:-ifervh}   # bridge-side veth ends: ${IFER_NS_VETH}i
export IFER_NS_PREFIX IFER_NS_BRIDGE IFER_NS_NET IFER_NS_VETH
NETNS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
