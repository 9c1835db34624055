#!/usr/bin/env bash
# Start a single-node SLURM on 127.0.0.1 for the cluster test: munge, slurmctld
# and slurmd from Debian's packages, configuration and state in STATE_DIR.
#   tests/slurm/start-slurm.sh STATE_DIR      (then: export SLURM_CONF=STATE_DIR/slurm.conf)
# Installs the packages with apt-get when they are missing (needs root).
set -euo pipefail
state=$(realpath -m "${1:?usage: start-slurm.sh STATE_DIR}")
mkdir -p "$state"/{ctld,spool,logs}

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null \
   || ! command -v munged >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    slurmctld slurmd slurm-client munge >/dev/null
fi

# munge: a key, and the daemon (as root, hence --force).
if [ ! -s /etc/munge/munge.key ]; then
  mkdir -p /etc/munge && mungekey --create --keyfile=/etc/munge/munge.key --force
fi
mkdir -p /run/munge /var/lib/munge /var/log/munge
pgrep -x munged >/dev/null || munged --force

host=$(hostname -s)
cpus=$(nproc)
mem_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 3 / 4 ))
cat > "$state/slurm.conf" <<CONF
ClusterName=dd2424test
SlurmctldHost=${host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/logs/slurmctld.log
SlurmdLogFile=$state/logs/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
# Finished jobs stay visible to squeue for 10 minutes: the executor's
# status queries use squeue, as there is no accounting (sacct) here.
MinJobAge=600
NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${mem_mb} State=UNKNOWN
PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$state/slurm.conf"
# srun inside a job reads the default path: the executor's job-step plugin
# drops SLURM_* variables, SLURM_CONF among them.  Link ours there, unless
# a real configuration is already in place (a link into another slurm-state
# directory is one an earlier, killed run of the test left: replaced).
if [ -e /etc/slurm/slurm.conf ] && ! { [ -L /etc/slurm/slurm.conf ] && readlink /etc/slurm/slurm.conf | grep -q "slurm-state"; }; then
  echo "/etc/slurm/slurm.conf exists and is not ours: not starting a test cluster over it" >&2
  exit 3
fi
mkdir -p /etc/slurm
ln -sfn "$SLURM_CONF" /etc/slurm/slurm.conf
touch "$state/linked-etc-slurm-conf"

slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 60); do
  if sinfo -h -o '%T' 2>/dev/null | grep -qE '^idle'; then
    echo "SLURM up: SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 1
done
echo "SLURM did not come up; its logs:" >&2
tail -n 20 "$state"/logs/*.log >&2 || true
exit 1
