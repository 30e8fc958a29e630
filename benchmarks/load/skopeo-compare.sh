#!/usr/bin/env bash
# Compares skopeo push and pull throughput of the Dtr sample host with Debian's docker-registry.
#
# Builds one OCI image layout with a layer of incompressible random bytes. Each registry in turn is started
# on a loopback port with a temporary data folder, and skopeo pushes and pulls the image RUNS times against
# it. The best MB/s (10^6 bytes per second) of each direction is reported. skopeo's blob-info cache is
# deleted before each push, because skopeo would otherwise mount the layer from an earlier repository
# instead of uploading it. When the sample host cannot be built, its column is skipped with a message and
# the reference is still measured.
#
# Usage: benchmarks/load/skopeo-compare.sh [--size-mib N] [--runs N]
#   --size-mib N   size of the random layer content in MiB (default 256)
#   --runs N       push and pull runs per registry; the best is reported (default 3)
# Needs skopeo, docker-registry, gzip, tar and curl. Exits 1 when a registry that started fails a transfer.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

size_mib=256
runs=3
while [ $# -gt 0 ]; do
  case "$1" in
    --size-mib) size_mib="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown option '$1'. Run with --help for the options." >&2; exit 1 ;;
  esac
done

for tool in skopeo docker-registry gzip tar curl sha256sum; do
  command -v "$tool" >/dev/null || { echo "error: $tool is missing. Install it with apt-get." >&2; exit 1; }
done

echo "Building an OCI layout with a $size_mib MiB random layer..."
layout="$work_dir/layout"
mkdir -p "$work_dir/rootfs/data"
write_random_file "$work_dir/rootfs/data/random.bin" "$size_mib"
write_single_layer_layout "$layout" "$work_dir/rootfs"
rm -rf "$work_dir/rootfs"
image_bytes=$IMAGE_BYTES

status=0
ours_push="skipped"
ours_pull="skipped"
echo "Building samples/Dtr.Sample.Host (Release)..."
if host_dll="$(build_dtr_host)"; then
  start_registry dtr "$host_dll"
  echo "Measuring the Dtr sample host at $REGISTRY_ADDRESS..."
  if measure_skopeo_transfers "Dtr sample host" "$layout" "$image_bytes" "$runs"; then
    ours_push=$best_push
    ours_pull=$best_pull
  else
    ours_push="failed"
    ours_pull="failed"
    status=1
  fi
  stop_registry
else
  echo "The sample host could not be built, so its column is skipped."
fi

reference_label="docker-registry $(docker-registry --version 2>/dev/null | awk '{print $NF}')"
start_registry docker-registry
echo "Measuring $reference_label at $REGISTRY_ADDRESS..."
if measure_skopeo_transfers "$reference_label" "$layout" "$image_bytes" "$runs"; then
  reference_push=$best_push
  reference_pull=$best_pull
else
  reference_push="failed"
  reference_pull="failed"
  status=1
fi
stop_registry

echo
echo "skopeo $(skopeo --version | awk '{print $NF}'), image of $(awk -v b="$image_bytes" 'BEGIN { printf "%.1f", b / 1048576 }') MiB (one gzip layer of random bytes), best of $runs runs"
echo "Machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
printf '%-6s %12s %40s %8s\n' "MB/s" "ours (Dtr)" "reference ($reference_label)" "ratio"
printf '%-6s %12s %40s %8s\n' "push" "$ours_push" "$reference_push" "$(ratio "$ours_push" "$reference_push")"
printf '%-6s %12s %40s %8s\n' "pull" "$ours_pull" "$reference_pull" "$(ratio "$ours_pull" "$reference_pull")"
exit "$status"
