#!/usr/bin/env bash
# Compares the Dtr sample host with Debian's docker-registry (CNCF distribution) in one run, prints one Markdown
# table with the ratio ours / reference and the goal of each figure, and writes it to docs/benchmarks.md.
#
# The registries run one after the other on loopback ports, with new data folders under the data root (the
# system's temporary folder unless --data-root is given), and get the same files. The sample host is a Release
# build started with --Logging:LogLevel:Default=Warning; docker-registry runs with log level warn, filesystem
# storage and delete enabled. Each server idles 2 s after start-up, and its idle VmHWM is read. Then both get the
# same warm-up, which no figure counts. It sends N (--warmup) uploads and downloads of a 1 MiB random blob to the
# repository bench/warmup, then 2 s each of the GET manifest and HEAD blob load of item 3, with the credentials
# of the measured requests. .NET compiles a method quickly first and again, optimized, once it has been called
# about 30 times (tiered compilation), and an upload calls most of its methods once. After 50 warm-up uploads the
# JIT still compiled about 1,000 methods during the next three 256 MiB uploads (DOTNET_JitStdOutFile with
# DOTNET_JitDisasmSummary=1), and after 300 none, so the default is 300.
# Before the first server starts, dd copies the random blob into the data folder 3 times with conv=fdatasync.
# That is the disk's own write rate, flushed, which bounds the upload rate of a registry that flushes each blob.
# Measured:
#   1. Single-stream blob upload with curl (a POST, then one monolithic PUT with ?digest=) and download (GET to
#      /dev/null) of a random blob, in MB/s (10^6 bytes per second), best of RUNS. Each run uses a new
#      repository, and a separate untimed GET checks the digest with openssl.
#   2. skopeo push and pull of an OCI image with one layer of the same random bytes, best of RUNS.
#   3. GET manifest requests/s and p99 with wrk (2 threads), and HEAD blob requests/s and p99 with hey, at 32
#      connections for DURATION seconds each. Anonymous: the sample host with authentication off and
#      docker-registry without auth. Authenticated: the sample host with --Registry:Auth:Enabled=true and a
#      team member's bearer token (pull scope) on a private repository, and docker-registry with htpasswd
#      basic authentication (bcrypt).
#   4. VmHWM (peak resident set size) of each server process after start-up (before the warm-up) and at the end
#      of its run, so the peak covers the warm-up as well.
#   5. The VmHWM growth of a new process of each registry over a 1 GiB monolithic PUT and a GET of the blob,
#      without a warm-up.
# Items 1, 2 and the anonymous part of 3 run in one process per registry, the authenticated part in a second.
#
# Usage: benchmarks/load/compare.sh [options]
#   --runs N         upload, download and skopeo runs per registry; the best is reported (default 3)
#   --duration S     seconds of each wrk and hey run (default 10, at most 240, because a bearer token is
#                    valid for 5 minutes by default)
#   --size-mib N     size of the random blob and of the image layer's content, in MiB (default 256)
#   --warmup N       warm-up uploads and downloads per server process, 0 to skip the whole warm-up (default 300)
#   --data-root DIR  create the data folders of both registries and the files the client sends in a new folder
#                    under DIR, an existing writable folder (default: the system's temporary folder). For
#                    example --data-root /dev/shm takes the disk out of the upload figures.
#   --skip-1gib      skip the 1 GiB memory check
#   --output FILE    write the report to FILE instead of docs/benchmarks.md; the notes below its marker line are kept
#   --no-write       print the table only
# Needs curl, openssl, jq, skopeo, wrk, hey, docker-registry, htpasswd (apache2-utils, installed with apt-get
# when missing and run as root), gzip and tar. Exits 1 on any error. A goal that is not met prints "not met" and
# still exits 0.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command_text="benchmarks/load/compare.sh"
if [ $# -gt 0 ]; then
  command_text+="$(printf ' %q' "$@")"
fi
runs=3
duration=10
size_mib=256
warmup_runs=300
warmup_mib=1
warmup_seconds=2
data_root=""
skip_1gib=false
output="$repo_root/docs/benchmarks.md"
write_output=true
connections=32
wrk_threads=2
growth_budget_mib=64

while [ $# -gt 0 ]; do
  case "$1" in
    --runs) require_positive_integer --runs "${2:-}"; runs="$2"; shift 2 ;;
    --duration) require_positive_integer --duration "${2:-}"; duration="$2"; shift 2 ;;
    --size-mib) require_positive_integer --size-mib "${2:-}"; size_mib="$2"; shift 2 ;;
    --warmup) require_whole_number --warmup "${2:-}"; warmup_runs="$2"; shift 2 ;;
    --data-root)
      if [ -z "${2:-}" ]; then
        echo "error: --data-root needs a folder name." >&2
        exit 1
      fi
      data_root="$2"
      shift 2
      ;;
    --skip-1gib) skip_1gib=true; shift ;;
    --output)
      if [ -z "${2:-}" ]; then
        echo "error: --output needs a file name." >&2
        exit 1
      fi
      output="$2"
      shift 2
      ;;
    --no-write) write_output=false; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown option '$1'. Run with --help for the options." >&2; exit 1 ;;
  esac
done
if [ "$duration" -gt 240 ]; then
  echo "error: --duration $duration is above 240 s. The bearer token fetched before each run is valid for 5 minutes, so use at most 240." >&2
  exit 1
fi

if [ -n "$data_root" ]; then
  use_data_root "$data_root"
fi
require_htpasswd
require_tools curl openssl jq skopeo wrk hey docker-registry htpasswd gzip tar sha256sum dotnet

started_at="$(date -u '+%Y-%m-%d %H:%M UTC')"
load_at_start="$(cut -d' ' -f1-3 /proc/loadavg)"
manifest_accept="Accept: application/vnd.oci.image.manifest.v1+json"
admin_password="admin-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
reader_password="reader-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
reference_version="$(docker-registry --version 2>/dev/null | awk '{print $NF}')"

# Prints the sha256 digest of FILE as sha256:HEX. openssl hashes 256 MiB about 3 times faster than coreutils
# sha256sum (0.24 s against 0.80 s on a 2-core AMD EPYC virtual machine).
file_digest() {
  echo "sha256:$(openssl dgst -sha256 -r "$1" | cut -d' ' -f1)"
}

echo "Writing a $size_mib MiB random blob..."
blob="$data_dir/blob.bin"
write_random_file "$blob" "$size_mib"
blob_bytes=$(stat -c %s "$blob")
blob_digest="$(file_digest "$blob")"

echo "Building an OCI layout with the same bytes as its one layer..."
large_layout="$data_dir/large-layout"
mkdir -p "$work_dir/rootfs/data"
cp "$blob" "$work_dir/rootfs/data/random.bin"
write_single_layer_layout "$large_layout" "$work_dir/rootfs"
rm -rf "$work_dir/rootfs"
large_image_bytes=$IMAGE_BYTES

echo "Building an OCI layout with 64 KiB of random bytes for the request-rate runs..."
small_layout="$data_dir/small-layout"
mkdir -p "$work_dir/rootfs/data"
head -c 65536 /dev/urandom >"$work_dir/rootfs/data/random.bin"
write_single_layer_layout "$small_layout" "$work_dir/rootfs"
rm -rf "$work_dir/rootfs"
small_layer_digest=$LAYER_DIGEST

if [ "$warmup_runs" -gt 0 ]; then
  echo "Writing a $warmup_mib MiB random blob for the warm-up..."
  warmup_blob="$data_dir/warmup.bin"
  write_random_file "$warmup_blob" "$warmup_mib"
  warmup_bytes=$(stat -c %s "$warmup_blob")
  warmup_digest="$(file_digest "$warmup_blob")"
fi

echo "Building samples/Dtr.Sample.Host (Release)..."
host_dll="$(build_dtr_host)"

# Copies the random blob to the data folder with dd 3 times, each time flushed with conv=fdatasync and deleted
# afterwards, and sets disk_rates (MB/s of each run, comma-separated) and disk_best.
measure_disk_write_rate() {
  local target="$data_dir/ddtest" run output seconds rate
  disk_rates=""
  disk_best=0
  for run in 1 2 3; do
    if ! output="$(LC_ALL=C dd if="$blob" of="$target" bs=1M conv=fdatasync 2>&1)"; then
      echo "error: dd to $target failed: $output" >&2
      rm -f "$target"
      return 1
    fi
    rm -f "$target"
    # dd's last line reads like "268435456 bytes (268 MB, 256 MiB) copied, 1.19 s, 225 MB/s".
    seconds="$(sed -n 's/.* copied, \([0-9.e+-]*\) s, .*/\1/p' <<<"$output")"
    if [ -z "$seconds" ]; then
      echo "error: could not read the time from dd's output: $output" >&2
      return 1
    fi
    rate=$(megabytes_per_second "$blob_bytes" 0 "$seconds")
    echo "  dd run $run: $rate MB/s"
    disk_rates+="${disk_rates:+, }$rate"
    disk_best=$(max "$disk_best" "$rate")
  done
}

echo "Measuring the data folder's own write rate: dd of the $size_mib MiB blob with conv=fdatasync, 3 runs..."
measure_disk_write_rate
data_filesystem="$(df -T "$data_dir" | awk 'NR == 2 { print $1 ", " $2 }')"
echo "Context: the disk's own write rate, flushed, is $disk_best MB/s at best ($disk_rates) on $data_filesystem."

# Measured values, keyed SIDE:FIGURE, where SIDE is dtr or reference.
declare -A figures

# Uploads and downloads the blob RUNS times at $REGISTRY_ADDRESS, each run in a new repository, and stores the
# best MB/s of each direction under SIDE.
measure_blob_transfers() {
  local side="$1"
  local run repository upload download pulled_digest best_upload=0 best_download=0
  for run in $(seq 1 "$runs"); do
    repository="bench/blob-$run"
    put_blob_monolithic "$repository" "$blob" "$blob_digest"
    upload=$(megabytes_per_second "$blob_bytes" 0 "$transfer_seconds")
    get_blob_to_null "$repository" "$blob_digest" "$blob_bytes"
    download=$(megabytes_per_second "$blob_bytes" 0 "$transfer_seconds")

    # Hashing inside the timed GET would cap its rate at the hash's speed, so the digest check is a second GET.
    pulled_digest="sha256:$(curl -sfL "http://$REGISTRY_ADDRESS/v2/$repository/blobs/$blob_digest" | openssl dgst -sha256 -r | cut -d' ' -f1)"
    if [ "$pulled_digest" != "$blob_digest" ]; then
      echo "error: GET of the blob from $repository hashes to $pulled_digest, expected $blob_digest." >&2
      return 1
    fi
    echo "  curl run $run: upload $upload MB/s, download $download MB/s, digest verified"

    best_upload=$(max "$best_upload" "$upload")
    best_download=$(max "$best_download" "$download")
  done
  figures[$side:upload]=$best_upload
  figures[$side:download]=$best_download
}

# Sends GET manifest requests for tag 1 of REPOSITORY with wrk, with each HEADER, and stores requests/s and p99
# under KEY (SIDE:open or SIDE:auth).
measure_manifest_reads() {
  local key="$1" repository="$2"
  local url="http://$REGISTRY_ADDRESS/v2/$repository/manifests/1"
  check_status GET "$url" "$manifest_accept" "${@:3}"
  run_wrk "$wrk_threads" "$connections" "$duration" "$url" "$manifest_accept" "${@:3}"
  figures[$key:manifest_rps]=$rps
  figures[$key:manifest_p99]=$p99_ms
}

# Sends HEAD requests for the small image's layer in REPOSITORY with hey, with each HEADER, and stores
# requests/s and p99 under KEY (SIDE:open or SIDE:auth).
measure_blob_heads() {
  local key="$1" repository="$2"
  local url="http://$REGISTRY_ADDRESS/v2/$repository/blobs/$small_layer_digest"
  check_status HEAD "$url" "${@:3}"
  run_hey_head "$connections" "$duration" "$url" "${@:3}"
  figures[$key:head_rps]=$rps
  figures[$key:head_p99]=$p99_ms
}

# Sends the warm-up load, which no figure counts, to $REGISTRY_ADDRESS: warmup_runs uploads and downloads of the
# warm-up blob in bench/warmup, then GET manifest requests (wrk) and HEAD blob requests (hey) on READ_REPOSITORY,
# warmup_seconds each, at the measured connection count. READ_HEADER goes with the reads and TRANSFER_HEADER with
# the blob transfers. Either may be empty for no credentials.
warm_up() {
  local read_repository="$1" read_header="$2" transfer_header="$3"
  local read_headers=() transfer_headers=() run
  if [ "$warmup_runs" -eq 0 ]; then
    return 0
  fi
  if [ -n "$read_header" ]; then
    read_headers=("$read_header")
  fi
  if [ -n "$transfer_header" ]; then
    transfer_headers=("$transfer_header")
  fi

  echo "  warm-up, not counted: $warmup_runs uploads and downloads of $warmup_mib MiB, $warmup_seconds s of GET manifest, $warmup_seconds s of HEAD blob"
  for run in $(seq 1 "$warmup_runs"); do
    put_blob_monolithic bench/warmup "$warmup_blob" "$warmup_digest" "${transfer_headers[@]}"
    get_blob_to_null bench/warmup "$warmup_digest" "$warmup_bytes" "${transfer_headers[@]}"
  done
  # run_wrk and run_hey_head print their figures, which are not results here.
  run_wrk "$wrk_threads" "$connections" "$warmup_seconds" "http://$REGISTRY_ADDRESS/v2/$read_repository/manifests/1" \
    "$manifest_accept" "${read_headers[@]}" >/dev/null
  run_hey_head "$connections" "$warmup_seconds" "http://$REGISTRY_ADDRESS/v2/$read_repository/blobs/$small_layer_digest" \
    "${read_headers[@]}" >/dev/null
}

# Stops the registry started last and deletes its data folder, which matters when the data root is a RAM-backed
# filesystem such as /dev/shm.
stop_registry_and_delete_data() {
  stop_registry
  rm -rf "$REGISTRY_DATA"
}

# Starts a registry with START_ARGUMENTS (as start_registry takes them) and runs the anonymous measurements on it:
# the warm-up, blob transfers, skopeo transfers and request rates, then the process's VmHWM. SIDE keys the figures
# and LABEL names the registry in progress lines.
measure_anonymous_run() {
  local side="$1" label="$2"
  start_registry "${@:3}"
  echo "Anonymous run: $label at $REGISTRY_ADDRESS, PID $REGISTRY_PID"
  figures[$side:open_idle_kib]=$(read_idle_vmhwm_kib)
  push_image "$small_layout" "docker://$REGISTRY_ADDRESS/bench/small:1"
  warm_up bench/small "" ""

  measure_blob_transfers "$side"
  measure_skopeo_transfers "$label" "$large_layout" "$large_image_bytes" "$runs"
  figures[$side:skopeo_push]=$best_push
  figures[$side:skopeo_pull]=$best_pull

  measure_manifest_reads "$side:open" bench/small
  measure_blob_heads "$side:open" bench/small

  figures[$side:open_peak_kib]=$(read_vmhwm_kib "$REGISTRY_PID")
  stop_registry_and_delete_data
}

echo
measure_anonymous_run dtr "Dtr sample host" dtr "$host_dll" --Logging:LogLevel:Default=Warning
measure_anonymous_run reference "docker-registry $reference_version" docker-registry

echo "Authenticated run: Dtr sample host"
start_registry dtr "$host_dll" --Logging:LogLevel:Default=Warning --Registry:Auth:Enabled=true \
  "--Registry:Admin:Password=$admin_password"
echo "  at $REGISTRY_ADDRESS, PID $REGISTRY_PID"
figures[dtr:auth_idle_kib]=$(read_idle_vmhwm_kib)
set_up_dtr_access "$small_layout" "$admin_password" "$reader_password"
if [ "$warmup_runs" -gt 0 ]; then
  # The reader may only pull, so the warm-up transfers use the administrator's bearer token on a repository of
  # their own.
  management_api "$admin_password" POST repositories/bench '{"name":"warmup","visibility":"private"}'
  admin_token="$(fetch_bearer_token "admin:$admin_password" repository:bench/warmup:pull,push)"
  token="$(fetch_bearer_token "reader:$reader_password" repository:bench/private:pull)"
  warm_up bench/private "Authorization: Bearer $token" "Authorization: Bearer $admin_token"
fi
# A new token before each run keeps it well inside its 5-minute lifetime.
token="$(fetch_bearer_token "reader:$reader_password" repository:bench/private:pull)"
measure_manifest_reads dtr:auth bench/private "Authorization: Bearer $token"
token="$(fetch_bearer_token "reader:$reader_password" repository:bench/private:pull)"
measure_blob_heads dtr:auth bench/private "Authorization: Bearer $token"
figures[dtr:auth_peak_kib]=$(read_vmhwm_kib "$REGISTRY_PID")
stop_registry_and_delete_data

echo "Authenticated run: docker-registry $reference_version with htpasswd"
htpasswd -Bbn reader "$reader_password" >"$work_dir/htpasswd"
start_registry docker-registry "$work_dir/htpasswd"
echo "  at $REGISTRY_ADDRESS, PID $REGISTRY_PID"
figures[reference:auth_idle_kib]=$(read_idle_vmhwm_kib)
push_image "$small_layout" "docker://$REGISTRY_ADDRESS/bench/private:1" "reader:$reader_password"
basic="Authorization: Basic $(printf '%s' "reader:$reader_password" | base64 -w0)"
warm_up bench/private "$basic" "$basic"
measure_manifest_reads reference:auth bench/private "$basic"
measure_blob_heads reference:auth bench/private "$basic"
figures[reference:auth_peak_kib]=$(read_vmhwm_kib "$REGISTRY_PID")
stop_registry_and_delete_data

# Starts a new registry with START_ARGUMENTS (as start_registry takes them), without a warm-up, sends the 1 GiB
# blob with one monolithic PUT and GETs it, and stores the growth of its VmHWM over the idle value in KiB under
# SIDE:growth_kib. LABEL names the registry in progress lines.
measure_memory_growth() {
  local side="$1" label="$2"
  local idle_kib peak_kib
  start_registry "${@:3}"
  echo "Memory check: 1 GiB monolithic PUT and GET on a new $label at $REGISTRY_ADDRESS, PID $REGISTRY_PID"
  idle_kib=$(read_idle_vmhwm_kib)
  put_blob_monolithic bench/large "$large_blob" "$large_blob_digest"
  echo "  PUT $(megabytes_per_second "$large_blob_bytes" 0 "$transfer_seconds") MB/s"
  get_blob_to_null bench/large "$large_blob_digest" "$large_blob_bytes"
  echo "  GET $(megabytes_per_second "$large_blob_bytes" 0 "$transfer_seconds") MB/s"
  peak_kib=$(read_vmhwm_kib "$REGISTRY_PID")
  stop_registry_and_delete_data
  echo "  VmHWM $idle_kib KiB after start-up, $peak_kib KiB after the transfers"
  figures[$side:growth_kib]=$((peak_kib - idle_kib))
}

if [ "$skip_1gib" = false ]; then
  echo "Writing a 1 GiB random blob for the memory check..."
  large_blob="$data_dir/blob-1gib.bin"
  write_random_file "$large_blob" 1024
  large_blob_bytes=$(stat -c %s "$large_blob")
  large_blob_digest="$(file_digest "$large_blob")"
  measure_memory_growth dtr "Dtr sample host" dtr "$host_dll" --Logging:LogLevel:Default=Warning
  measure_memory_growth reference "docker-registry $reference_version" docker-registry
  rm -f "$large_blob"
fi
load_at_end="$(cut -d' ' -f1-3 /proc/loadavg)"

# Prints KIB as MiB with one decimal.
mebibytes() {
  awk -v kib="$1" 'BEGIN { printf "%.1f", kib / 1024 }'
}

table_rows=()

# Adds a table row for FIGURE with the values OURS and REFERENCE. GOAL is "min LIMIT" when ours / reference must
# be at least LIMIT, "max LIMIT" when it must be at most LIMIT, or "report" for a figure without a goal.
add_comparison_row() {
  local figure="$1" ours="$2" reference="$3" goal="$4"
  local value goal_text met
  value=$(ratio "$ours" "$reference")
  case "$goal" in
    min\ *) goal_text="ratio >= ${goal#min }" ;;
    max\ *) goal_text="ratio <= ${goal#max }" ;;
    *) goal_text="report" ;;
  esac
  met=$(awk -v value="$value" -v goal="$goal" 'BEGIN {
    split(goal, parts, " ")
    if (parts[1] != "min" && parts[1] != "max") print "-"
    else if (value !~ /^[0-9.]+$/) print "not met"
    else if (parts[1] == "min") print (value + 0 >= parts[2] + 0) ? "met" : "not met"
    else print (value + 0 <= parts[2] + 0) ? "met" : "not met"
  }')
  table_rows+=("| $figure | $ours | $reference | $value | $goal_text | $met |")
}

if [ "$runs" -eq 1 ]; then
  transfer_note="$size_mib MiB, MB/s, one run"
else
  transfer_note="$size_mib MiB, MB/s, best of $runs"
fi
add_comparison_row "blob upload, monolithic PUT, $transfer_note" "${figures[dtr:upload]}" "${figures[reference:upload]}" "min 3"
add_comparison_row "blob download, GET, $transfer_note" "${figures[dtr:download]}" "${figures[reference:download]}" "min 1"
add_comparison_row "skopeo push, $transfer_note" "${figures[dtr:skopeo_push]}" "${figures[reference:skopeo_push]}" report
add_comparison_row "skopeo pull, $transfer_note" "${figures[dtr:skopeo_pull]}" "${figures[reference:skopeo_pull]}" report
for mode in open auth; do
  if [ "$mode" = open ]; then
    mode_text="anonymous"
    minimum=2
  else
    mode_text="authenticated"
    minimum=4
  fi
  add_comparison_row "GET manifest, $mode_text, requests/s" "${figures[dtr:$mode:manifest_rps]}" "${figures[reference:$mode:manifest_rps]}" "min $minimum"
  add_comparison_row "GET manifest, $mode_text, p99 ms" "${figures[dtr:$mode:manifest_p99]}" "${figures[reference:$mode:manifest_p99]}" report
  add_comparison_row "HEAD blob, $mode_text, requests/s" "${figures[dtr:$mode:head_rps]}" "${figures[reference:$mode:head_rps]}" "min $minimum"
  add_comparison_row "HEAD blob, $mode_text, p99 ms" "${figures[dtr:$mode:head_p99]}" "${figures[reference:$mode:head_p99]}" report
done
for mode in open auth; do
  if [ "$mode" = open ]; then
    mode_text="anonymous run"
  else
    mode_text="authenticated run"
  fi
  add_comparison_row "VmHWM after start-up, $mode_text, MiB" "$(mebibytes "${figures[dtr:${mode}_idle_kib]}")" \
    "$(mebibytes "${figures[reference:${mode}_idle_kib]}")" report
  add_comparison_row "peak VmHWM, $mode_text, MiB" "$(mebibytes "${figures[dtr:${mode}_peak_kib]}")" \
    "$(mebibytes "${figures[reference:${mode}_peak_kib]}")" "max 2"
done
growth_figure="VmHWM growth over a 1 GiB PUT and GET, MiB"
if [ "$skip_1gib" = false ]; then
  if [ "${figures[dtr:growth_kib]}" -le $((growth_budget_mib * 1024)) ]; then
    growth_met="met"
  else
    growth_met="not met"
  fi
  dtr_growth="$(mebibytes "${figures[dtr:growth_kib]}")"
  reference_growth="$(mebibytes "${figures[reference:growth_kib]}")"
  table_rows+=("| $growth_figure | $dtr_growth | $reference_growth | $(ratio "$dtr_growth" "$reference_growth") | Dtr <= $growth_budget_mib MiB | $growth_met |")
else
  table_rows+=("| $growth_figure | skipped | skipped | - | Dtr <= $growth_budget_mib MiB | - |")
fi

# Prints the Markdown table.
print_table() {
  echo "| figure | Dtr | docker-registry | ratio | goal | met? |"
  echo "| --- | --- | --- | --- | --- | --- |"
  printf '%s\n' "${table_rows[@]}"
}

echo
print_table

if [ "$write_output" = false ]; then
  exit 0
fi

# Prints a description of this machine and of the tools as Markdown list items.
describe_machine() {
  local runtime
  runtime="$(dotnet --list-runtimes | awk '$1 == "Microsoft.NETCore.App" { version = $2 } END { print version }')"
  echo "- $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  echo "- $(awk '/^MemTotal:/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo) GiB memory"
  echo "- Linux $(uname -r), Debian $(cat /etc/debian_version)"
  echo "- data folder under $(dirname "$data_dir") on $data_filesystem (\`df -T\`)"
  echo "- the disk's own write rate, flushed: $disk_best MB/s, best of 3 runs ($disk_rates) of"
  echo "  \`dd if=BLOB of=DATA_FOLDER/ddtest bs=1M conv=fdatasync\` with the $size_mib MiB random blob"
  echo "- .NET runtime $runtime (Microsoft.NETCore.App), docker-registry $reference_version"
  echo "- curl $(curl --version | awk 'NR == 1 { print $2 }'), skopeo $(skopeo --version | awk '{ print $NF }')," \
    "wrk $(dpkg-query -W -f='${Version}' wrk), hey $(dpkg-query -W -f='${Version}' hey)"
  echo "- load average (1, 5, 15 minutes) $load_at_start at the start, $load_at_end at the end"
}

mkdir -p "$(dirname "$output")"
# Notes written by hand below this marker line survive a new run; everything above it is generated.
notes_marker="<!-- Notes below this line are kept when compare.sh writes this file again. -->"
kept_notes=""
if [ -f "$output" ]; then
  kept_notes="$(awk -v marker="$notes_marker" 'found { print } $0 == marker { found = 1 }' "$output")"
fi
{
  echo "# Load comparison with docker-registry"
  echo
  echo "Measured on $started_at with:"
  echo
  echo '```bash'
  echo "$command_text"
  echo '```'
  echo
  echo "## Machine"
  echo
  describe_machine
  echo
  echo "## Servers"
  echo
  echo "- Dtr: \`samples/Dtr.Sample.Host\`, Release build, with its default storage (filesystem blobs and SQLite"
  echo "  metadata in a new data folder under $(dirname "$data_dir")) and \`--Logging:LogLevel:Default=Warning\`. Authentication is off for"
  echo "  the anonymous run and the 1 GiB check. The authenticated run adds \`--Registry:Auth:Enabled=true\` and reads"
  echo "  with a bearer token from \`/auth/token\` (scope \`repository:bench/private:pull\`) of a user whose team has"
  echo "  read-only access to the private repository."
  echo "- docker-registry $reference_version (Debian package): filesystem storage in a new data folder under"
  echo "  $(dirname "$data_dir"), log level warn, \`storage.delete.enabled: true\`. The authenticated run adds"
  echo "  htpasswd basic authentication with a bcrypt entry from \`htpasswd -B\`, sent as an \`Authorization: Basic\`"
  echo "  header on every request."
  echo "- Both listen on 127.0.0.1 and run one at a time, each idle for 2 s after start-up."
  if [ "$warmup_runs" -gt 0 ]; then
    echo "- Both get the same warm-up after the idle VmHWM is read and before the first measured request. Every"
    echo "  process except the 1 GiB check's gets $warmup_runs monolithic PUTs and GETs of a $warmup_mib MiB random blob in"
    echo "  \`bench/warmup\`. Then it gets $warmup_seconds s of GET manifest (wrk) and $warmup_seconds s of HEAD blob (hey) at"
    echo "  $connections connections, with the credentials of the measured requests. In Dtr's authenticated run the"
    echo "  warm-up blob transfers use the administrator's bearer token, because the reader may only pull. No figure"
    echo "  counts the warm-up."
  else
    echo "- No warm-up (\`--warmup 0\`): the first measured requests also time the .NET JIT compiler."
  fi
  echo
  echo "## Results"
  echo
  print_table
  echo
  echo "## Method"
  echo
  echo "- Blob transfers: curl sends a POST and then one PUT with \`?digest=\` and the whole file (\`-T FILE -H 'Expect:'\`),"
  echo "  and downloads with \`curl -o /dev/null\`. The time is curl's \`time_total\` of the PUT or GET. A second,"
  echo "  untimed GET checks the digest with \`openssl dgst -sha256\`. Each run uses a new repository."
  echo "- skopeo copies an OCI layout with one gzip layer of the same random bytes ($large_image_bytes bytes with"
  echo "  manifest and config), after deleting skopeo's blob-info cache, and pulls it back into a new layout."
  if [ "$runs" -eq 1 ]; then
    echo "- MB/s is 10^6 bytes per second. Transfer figures come from one run."
  else
    echo "- MB/s is 10^6 bytes per second. Transfer figures are the best of $runs runs."
  fi
  echo "- Request rates: one run each of $duration s at $connections connections. GET manifest runs with wrk"
  echo "  ($wrk_threads threads, \`--latency\`), and HEAD of a 64 KiB layer blob with \`hey -z ${duration}s -c $connections -m HEAD\`."
  echo "  Every URL returned 200 before its run, and a run fails on any response that is not 2xx."
  echo "- VmHWM is the server process's peak resident set size from \`/proc/PID/status\`. It is read after start-up"
  echo "  and 2 s idle (before any warm-up), and at the end of the process's run. The peak therefore covers the"
  echo "  warm-up and every measurement made in that process."
  echo "  The anonymous run (transfers and anonymous request rates) and the authenticated run are separate processes."
  echo "- The 1 GiB check starts a new process of each registry without a warm-up, reads VmHWM after 2 s idle,"
  echo "  sends a 1 GiB random blob with one monolithic PUT, GETs it to /dev/null, and reads VmHWM again. The goal"
  echo "  is a growth of at most $growth_budget_mib MiB for Dtr. The docker-registry figure is the reference."
  echo "- The disk's own write rate is measured before the first server starts. Dtr's filesystem store flushes each"
  echo "  blob (fsync) before the upload completes, so this rate bounds its upload figures."
  echo "- Ratios are Dtr / docker-registry. Client and servers share the same machine, and the client's files and"
  echo "  both data folders share the data folder's filesystem."
  echo
  echo "$notes_marker"
  if [ -n "$kept_notes" ]; then
    printf '%s\n' "$kept_notes"
  fi
} >"$output.new"
mv "$output.new" "$output"
echo
echo "Wrote $output"
