#!/usr/bin/env bash
# Measures how much a registry's peak resident memory (VmHWM) grows while it receives and serves a large blob.
#
# Starts the registry on a loopback port with a temporary data folder and reads its idle VmHWM. Then it
# pushes a random blob twice through the OCI distribution API (a monolithic PUT, then a chunked upload of
# PATCH requests), pulls it back with a sha256 check, and reads VmHWM again. PASS means the growth is
# within the budget.
#
# Usage: benchmarks/load/memory.sh [options]
#   --size-mib N        blob size in MiB (default 1024)
#   --chunk-mib N       size of each PATCH in the chunked upload, in MiB (default 64)
#   --budget-mib N      allowed VmHWM growth in MiB (default 64)
#   --docker-registry   measure Debian's docker-registry instead of the sample host, for comparison
#   --command 'CMD'     measure any registry started by CMD; {port} and {data} are replaced by a free loopback
#                       port and a temporary data folder, and CMD must bind 127.0.0.1:{port}
# Exits 1 on FAIL or on any error.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

size_mib=1024
chunk_mib=64
budget_mib=64
kind=dtr
command_line=""

while [ $# -gt 0 ]; do
  case "$1" in
    --size-mib) size_mib="$2"; shift 2 ;;
    --chunk-mib) chunk_mib="$2"; shift 2 ;;
    --budget-mib) budget_mib="$2"; shift 2 ;;
    --docker-registry) kind=docker-registry; shift ;;
    --command) kind="command"; command_line="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown option '$1'. Run with --help for the options." >&2; exit 1 ;;
  esac
done

for tool in curl sha256sum split awk; do
  command -v "$tool" >/dev/null || { echo "error: $tool is missing. Install it with apt-get." >&2; exit 1; }
done

blob="$work_dir/blob.bin"
echo "Writing a $size_mib MiB random blob..."
write_random_file "$blob" "$size_mib"
digest="sha256:$(sha256sum "$blob" | cut -d' ' -f1)"
blob_bytes=$(stat -c %s "$blob")

case "$kind" in
  dtr)
    echo "Building samples/Dtr.Sample.Host (Release)..."
    host_dll="$(build_dtr_host)"
    start_registry dtr "$host_dll"
    label="Dtr sample host"
    ;;
  docker-registry)
    start_registry docker-registry
    label="docker-registry $(docker-registry --version 2>/dev/null | awk '{print $NF}')"
    ;;
  command)
    start_registry command "$command_line"
    label="$command_line"
    ;;
esac
base="http://$REGISTRY_ADDRESS"
echo "Registry: $label, PID $REGISTRY_PID, at $REGISTRY_ADDRESS"

# Lets start-up work settle, so the idle figure does not include the first request's JIT and allocations.
idle_kib=$(read_idle_vmhwm_kib)

# Prints the MB/s (10^6 bytes per second) of BYTES moved between two timestamps.
throughput() {
  awk -v bytes="$1" -v start="$2" -v end="$3" 'BEGIN { printf "%.0f MB/s (%.1f s)", bytes / 1e6 / (end - start), end - start }'
}

put_blob_monolithic bench/monolithic "$blob" "$digest"
echo "Monolithic PUT:   $(throughput "$blob_bytes" 0 "$transfer_seconds")"

# Chunked upload: PATCH requests with Content-Range, each sent to the Location returned by the previous one.
split -b "${chunk_mib}M" -d -a 4 "$blob" "$work_dir/chunk-"
location=$(start_upload bench/chunked)
offset=0
start=$(now)
for chunk in "$work_dir"/chunk-*; do
  chunk_bytes=$(stat -c %s "$chunk")
  range="$offset-$((offset + chunk_bytes - 1))"
  status=$(curl -s -o "$work_dir/patch.out" -D "$work_dir/patch.headers" -w '%{http_code}' -X PATCH -T "$chunk" \
    -H 'Expect:' -H 'Content-Type: application/octet-stream' -H "Content-Range: $range" "$location")
  if [ "$status" != "202" ]; then
    echo "error: PATCH of bytes $range returned $status, expected 202: $(head -c 500 "$work_dir/patch.out")" >&2
    exit 1
  fi
  next=$(awk 'tolower($1) == "location:" { sub(/\r$/, "", $2); print $2 }' "$work_dir/patch.headers")
  case "$next" in
    http*) location="$next" ;;
    "") ;;
    *) location="$base$next" ;;
  esac
  offset=$((offset + chunk_bytes))
  rm -f "$chunk"
done
status=$(curl -s -o "$work_dir/put.out" -w '%{http_code}' -X PUT -H 'Content-Length: 0' "$(with_digest "$location" "$digest")")
end=$(now)
if [ "$status" != "201" ]; then
  echo "error: the PUT closing the chunked upload returned $status, expected 201: $(head -c 500 "$work_dir/put.out")" >&2
  exit 1
fi
echo "Chunked PATCH:    $(throughput "$blob_bytes" "$start" "$end") in $chunk_mib MiB chunks"

# Pull: stream the blob through sha256sum, so the client does not keep it in memory either.
for repository in bench/monolithic bench/chunked; do
  start=$(now)
  pulled=$(curl -sfL "$base/v2/$repository/blobs/$digest" | sha256sum | cut -d' ' -f1)
  end=$(now)
  if [ "sha256:$pulled" != "$digest" ]; then
    echo "error: GET of the blob from $repository hashes to sha256:$pulled, expected $digest." >&2
    exit 1
  fi
  echo "GET $repository: $(throughput "$blob_bytes" "$start" "$end"), sha256 verified"
done

peak_kib=$(read_vmhwm_kib "$REGISTRY_PID")
growth_kib=$((peak_kib - idle_kib))
awk -v idle="$idle_kib" -v peak="$peak_kib" -v growth="$growth_kib" -v budget="$budget_mib" -v label="$label" -v size="$size_mib" 'BEGIN {
  printf "\nRegistry:         %s\n", label
  printf "Blob:             %d MiB, pushed twice and pulled twice\n", size
  printf "Idle VmHWM:       %.1f MiB\n", idle / 1024
  printf "Peak VmHWM:       %.1f MiB\n", peak / 1024
  printf "Growth:           %.1f MiB (budget %d MiB)\n", growth / 1024, budget
}'
if [ "$growth_kib" -le $((budget_mib * 1024)) ]; then
  echo "PASS"
else
  echo "FAIL"
  exit 1
fi
