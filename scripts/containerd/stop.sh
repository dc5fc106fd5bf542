#!/usr/bin/env bash
# Stops a containerd started by start.sh and leaves nothing behind: in every namespace it
# kills and deletes the tasks (their shims outlive containerd otherwise), deletes containers
# (with their snapshots) and images, deletes the namespace and runc's per-namespace state
# directory on the host; then stops containerd by its pid and removes the directory.
set -uo pipefail

dir="${1:?usage: stop.sh <dir printed by start.sh>}"
sock="$dir/containerd.sock"
pidfile="$dir/containerd.pid"
[ -f "$pidfile" ] || { echo "no $pidfile: nothing to stop" >&2; exit 0; }
pid="$(cat "$pidfile")"

if kill -0 "$pid" 2>/dev/null && ctr --address "$sock" version >/dev/null 2>&1; then
  for ns in $(ctr --address "$sock" namespaces list --quiet); do
    c="ctr --address $sock --namespace $ns"
    for task in $($c tasks list --quiet); do
      $c tasks kill --signal SIGKILL --all "$task" >/dev/null 2>&1 || true
      $c tasks delete --force "$task" >/dev/null 2>&1 || true
    done
    for container in $($c containers list --quiet); do $c containers delete "$container" >/dev/null 2>&1 || true; done
    for image in $($c images list --quiet); do $c images remove "$image" >/dev/null 2>&1 || true; done
    ctr --address "$sock" namespaces remove "$ns" >/dev/null 2>&1 || true
    # runc keeps its state under /run/containerd/runc/<namespace> whatever containerd's root.
    rmdir "/run/containerd/runc/$ns" 2>/dev/null || true
  done
fi

# Alive and not yet a zombie (start.sh exited, so containerd's parent is init, which reaps it
# in its own time; a zombie has stopped all the same).
running() { [ -r "/proc/$pid/stat" ] && [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ]; }
if running; then
  kill -TERM "$pid"
  for _ in $(seq 1 200); do running || break; sleep 0.02; done
  running && kill -KILL "$pid"
fi
rm -rf "$dir"
