#!/bin/sh
# Open MPI's plm_rsh_agent in place of ssh: runs the remote command inside the namespace of the
# host it names. Open MPI calls:  AGENT [ssh options] HOST orted -mca ess "env" ...
# The command after HOST is shell text with quotes, so it is re-parsed with sh -c (as sshd does).
# (mpirun.sh exports IFER_NS_*; the defaults equal common.sh's.)
# HOST is an address $IFER_NS_NET.i (-> namespace ${IFER_NS_PREFIX}i) or a namespace name.
: "${IFER_NS_PREFIX:=ifern}" "${IFER_NS_NET:=10.99.0}"
while [ $# -gt 0 ]; do
  case "$1" in
    -o|-p|-l|-i|-F) shift 2 ;;
    -*) shift ;;
    *) break ;;
  esac
done
host=${1:?rsh-agent: no host}; shift
case "$host" in
  "$IFER_NS_NET".*) ns=$IFER_NS_PREFIX${host##*.} ;;
  *) ns=${host%%.*} ;;
esac
# Own UTS namespace per host, so hostname and Open MPI's messages say which host.
exec ip netns exec "$ns" unshare --uts /bin/sh -c 'hostname "$0"; exec /bin/sh -c "$1"' "$ns" "$*"
