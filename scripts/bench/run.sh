#!/usr/bin/env bash
# npm run bench: every benchmark, one after another. Arguments go to the side-by-side one
# (`npm run bench -- --sizes 1000,10000,100000`; `node dist/bench/side-by-side/main.js --help`).
# Results: bench/results/{hot-path,side-by-side,restart-check,profiles,informer,redact,watch-framing}.json
# and side-by-side-*.svg. A lost update in the restart check (bench/scale-probe/restart-check.ts)
# fails the run once the others have run.
set -euo pipefail
cd "$(dirname "$0")/../.."
# The open-files limit of this shell is inherited by everything below: kube-apiserver (which
# serves one connection per client-node informer) and every worker. As root it can go past the
# hard limit; otherwise it goes up to it. The workers are started with the same ulimit again.
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "bench: open-files limit $(ulimit -n)" >&2
node dist/bench/hot-path.js
node dist/bench/side-by-side/main.js "$@"
restart_check=0
node dist/bench/scale-probe/restart-check.js --objects 10000 || restart_check=$?
node dist/bench/profiles/main.js
node dist/bench/informer.js
node dist/bench/redact.js
node dist/bench/watch-framing.js
exit "$restart_check"
