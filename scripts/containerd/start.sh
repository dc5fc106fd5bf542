#!/usr/bin/env bash
# Starts a private containerd for tests: root, state, sockets and log in one directory (a new
# temporary one unless given), the CRI and host-wide plugins off, so it starts in well under a
# second and touches nothing of a containerd the host may run. Prints the directory on its last
# line; the socket is <dir>/containerd.sock and the pid is in <dir>/containerd.pid. Stop it with
# scripts/containerd/stop.sh <dir>.
set -euo pipefail

command -v containerd >/dev/null || { echo "containerd is not installed (apt-get install containerd runc)" >&2; exit 2; }
dir="${1:-$(mktemp -d "${TMPDIR:-/tmp}/refwatch-containerd.XXXXXX")}"
mkdir -p "$dir/root" "$dir/state"

# version 2 config. Plugins that read host paths (/opt/containerd) or start servers nobody
# here uses are disabled; snapshotters that need kernel modules or special filesystems too.
cat >"$dir/config.toml" <<TOML
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]
[grpc]
  address = "$dir/containerd.sock"
[ttrpc]
  address = "$dir/containerd.sock.ttrpc"
[debug]
  address = "$dir/debug.sock"
[metrics]
  address = ""
TOML

containerd --config "$dir/config.toml" >"$dir/containerd.log" 2>&1 &
pid=$!
echo "$pid" >"$dir/containerd.pid"

# Ready when the socket answers; 10 s is far above the sub-second start seen on a 2-core machine.
for _ in $(seq 1 200); do
  if ctr --address "$dir/containerd.sock" version >/dev/null 2>&1; then
    echo "$dir"
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "containerd exited during start; its log:" >&2
    cat "$dir/containerd.log" >&2
    exit 1
  fi
  sleep 0.05
done
echo "containerd did not answer on $dir/containerd.sock within 10 s" >&2
kill "$pid" 2>/dev/null || true
exit 1
