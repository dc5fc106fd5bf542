#!/usr/bin/env bash
# Builds a one-layer OCI image archive from the host's static busybox (Debian's busybox-static),
# for containers in tests and in the node-agent example: no registry, no network. The layer
# holds /bin/busybox and the applets used (sh, sleep, true).
#
#   busybox-image.sh --check           prints the static busybox found, or fails
#   busybox-image.sh OUT.tar NAME      writes the archive; import it with
#                                      ctr images import --snapshotter native OUT.tar
set -euo pipefail

find_busybox() {
  for bb in /bin/busybox /usr/bin/busybox; do
    # A static binary runs in an empty rootfs; ldd fails on it ("not a dynamic executable").
    if [ -x "$bb" ] && ! ldd "$bb" >/dev/null 2>&1; then echo "$bb"; return 0; fi
  done
  echo "no static busybox found (apt-get install busybox-static)" >&2
  return 1
}

if [ "${1:-}" = "--check" ]; then find_busybox; exit; fi
out="${1:?usage: busybox-image.sh OUT.tar NAME}"
name="${2:?usage: busybox-image.sh OUT.tar NAME}"
bb="$(find_busybox)"

work="$(mktemp -d "${TMPDIR:-/tmp}/refwatch-oci.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rootfs/bin" "$work/oci/blobs/sha256"
cp "$bb" "$work/rootfs/bin/busybox"
for applet in sh sleep true; do ln -s busybox "$work/rootfs/bin/$applet"; done
tar --create --file "$work/layer.tar" --directory "$work/rootfs" --numeric-owner --owner=0 --group=0 .

# Stores a file as a blob; prints "<digest hex> <size>".
blob() {
  local digest size
  digest="$(sha256sum "$1" | cut -d' ' -f1)"
  size="$(stat -c %s "$1")"
  cp "$1" "$work/oci/blobs/sha256/$digest"
  echo "$digest $size"
}

case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; armv7l) arch=arm ;; *) arch="$(uname -m)" ;; esac
read -r layer layer_size < <(blob "$work/layer.tar")
printf '{"architecture":"%s","os":"linux","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
  "$arch" "$layer" >"$work/config.json"
read -r config config_size < <(blob "$work/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
  "$config" "$config_size" "$layer" "$layer_size" >"$work/manifest.json"
read -r manifest manifest_size < <(blob "$work/manifest.json")
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s"}}]}' \
  "$manifest" "$manifest_size" "$name" >"$work/oci/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$work/oci/oci-layout"
tar --create --file "$out" --directory "$work/oci" .
