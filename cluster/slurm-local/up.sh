#!/usr/bin/env bash
# Starts a one-node Slurm on this machine: munged, slurmctld, slurmd, no systemd, every state
# file, log and pid under one folder. Usage: up.sh STATE_DIR   (then: export SLURM_CONF=STATE_DIR/etc/slurm.conf)
# Waits until the node is idle (about 1 s). Stop it with down.sh STATE_DIR (from a trap).
#   RequeueExit=85          a batch script exiting 85 is requeued (the preemption contract)
#   cred_expire=10 + sched_interval=2   a requeued job runs again after ~12 s instead of ~140 s
set -euo pipefail
state=${1:?usage: up.sh STATE_DIR}
[ "$(id -u)" -eq 0 ] || { echo "slurm-local: the daemons need root" >&2; exit 2; }
mkdir -p "$state"/{etc,state/ctld,state/d,run,log,munge}
chmod 755 "$state"   # munged runs as user munge: it must reach $state/munge
state=$(cd "$state" && pwd)
node=$(hostname -s)
cpus=$(nproc)
mem=$(( $(free -m | awk '/^Mem:/ {print $2}') * 85 / 100 ))   # above what slurmd sees drains the node
cat > "$state/etc/slurm.conf" <<CONF
# One-node Slurm for tests (cluster/slurm-local/up.sh); everything lives under $state.
ClusterName=iferlocal
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$state/munge/munge.socket,cred_expire=10
SlurmctldPort=${SLURM_LOCAL_PORT:-6817}
SlurmdPort=$(( ${SLURM_LOCAL_PORT:-6817} + 1 ))
StateSaveLocation=$state/state/ctld
SlurmdSpoolDir=$state/state/d
SlurmctldPidFile=$state/run/slurmctld.pid
SlurmdPidFile=$state/run/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=5
MpiDefault=none
JobRequeue=1
RequeueExit=85
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$state/log/jobcomp.txt
MinJobAge=3600
MailProg=/bin/true
DefMemPerCPU=1000
KillWait=10
InactiveLimit=0
SlurmdTimeout=60
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
export SLURM_CONF=$state/etc/slurm.conf
# munged with its own socket, key copy and pid file, so a system munged (if any) is left alone.
install -d -o munge -g munge -m 755 "$state/munge"   # clients need x on the socket folder
install -o munge -g munge -m 400 /etc/munge/munge.key "$state/munge/munge.key"
runuser -u munge -- /usr/sbin/munged --socket="$state/munge/munge.socket" --key-file="$state/munge/munge.key" \
  --pid-file="$state/munge/munged.pid" --log-file="$state/munge/munged.log" --seed-file="$state/munge/munged.seed"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF" -N "$node"
for _ in $(seq 1 300); do
  s=$(sinfo -h -N -o %t 2>/dev/null || true)
  [ "$s" = idle ] && { echo "slurm-local: node $node idle ($cpus CPUs, state in $state)"; exit 0; }
  sleep 0.1
done
echo "slurm-local: node $node not idle after 30 s (sinfo: '${s:-}'); see $state/log/slurmctld.log and slurmd.log" >&2
exit 1
