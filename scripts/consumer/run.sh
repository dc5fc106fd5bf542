#!/usr/bin/env bash
# The consumer test: refwatch as its users meet it. Packs the package (prepack builds it),
# installs the tarball into two scratch projects outside the repository, and runs them:
#   esm/  an ES module TypeScript project with its own @kubernetes/client-node, rxjs and
#         typescript; compiled with strict (and skipLibCheck off, so refwatch's declarations
#         are checked too), then run against the embedded API server from refwatch/testing.
#   cjs/  a CommonJS project that require()s refwatch and refwatch/testing, with
#         @kubernetes/client-node not installed, so loading it proves refwatch never does.
# Peers come from npm's cache when it has them (--prefer-offline), the registry otherwise; the
# versions are the ones this repository's lockfile installed, or CONSUMER_CLIENT_NODE=<version>.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/refwatch-consumer.XXXXXX")
trap 'rm -rf "$work"' EXIT

version_of() { node -p "require('$root/node_modules/$1/package.json').version"; }
client_node=${CONSUMER_CLIENT_NODE:-$(version_of @kubernetes/client-node)}
rxjs=$(version_of rxjs)
typescript=$(version_of typescript)
types_node=$(version_of @types/node)
install=(npm install --prefer-offline --no-audit --no-fund --loglevel=error)

echo "consumer test on Node $(node --version): packing refwatch (prepack builds it)"
tarball=$(npm pack --json --pack-destination "$work" 2>/dev/null | node -e "process.stdout.write(JSON.parse(require('fs').readFileSync(0, 'utf8'))[0].filename)")
tarball="$work/$tarball"

echo "esm: installing $(basename "$tarball") with @kubernetes/client-node@$client_node rxjs@$rxjs typescript@$typescript"
cp -R scripts/consumer/esm "$work/esm"
(
  cd "$work/esm"
  # @types/ws: client-node's declarations import ws's types (through isomorphic-ws), which a
  # project that checks library declarations needs.
  "${install[@]}" "$tarball" "@kubernetes/client-node@$client_node" "rxjs@$rxjs" \
    "typescript@$typescript" "@types/node@$types_node" "@types/ws@^8"
  # Peers, not dependencies: refwatch must use this project's single copy of each.
  for peer in @kubernetes/client-node rxjs; do
    if [ -e "node_modules/refwatch/node_modules/$peer" ]; then
      echo "esm: refwatch brought its own copy of $peer" >&2
      exit 1
    fi
  done
  node_modules/.bin/tsc -p tsconfig.json
  node dist/main.js
)

echo "cjs: installing $(basename "$tarball") with rxjs@$rxjs and without @kubernetes/client-node"
cp -R scripts/consumer/cjs "$work/cjs"
(
  cd "$work/cjs"
  # --legacy-peer-deps: peers are not installed automatically, so client-node stays absent.
  "${install[@]}" --legacy-peer-deps "$tarball" "rxjs@$rxjs"
  node main.cjs
)
echo "consumer test passed"
