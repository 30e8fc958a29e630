#!/usr/bin/env bash
# Compares the Dtr sample host with Debian's docker-registry (CNCF distribution) in one run, prints one Markdown
# table with the ratio ours / reference and the goal of each figure, and writes it to docs/benchmarks.md.
#
# The registries run one after the other on loopback ports with temporary data folders, and get the same files.
# The sample host is a Release build started with --Logging:LogLevel:Default=Warning; docker-registry runs with
# log level warn, filesystem storage and delete enabled. Each server idles 2 s after start-up. Measured:
#   1. Single-stream blob upload with curl (a POST, then one monolithic PUT with ?digest=) and download (GET to
#      /dev/null) of a random blob, in MB/s (10^6 bytes per second), best of RUNS. Each run uses a new
#      repository, and a separate untimed GET checks the digest with openssl.
#   2. skopeo push and pull of an OCI image with one layer of the same random bytes, best of RUNS.
#   3. GET manifest requests/s and p99 with wrk (2 threads), and HEAD blob requests/s and p99 with hey, at 32
#      connections for DURATION seconds each. Anonymous: the sample host with authentication off and
#      docker-registry without auth. Authenticated: the sample host with --Registry:Auth:Enabled=true and a
#      team member's bearer token (pull scope) on a private repository, and docker-registry with htpasswd
#      basic authentication (bcrypt).
#   4. VmHWM (peak resident set size) of each server process after start-up and at the end of its run.
#   5. The VmHWM growth of a fresh sample host over a 1 GiB monolithic PUT and a GET of the blob.
# Items 1, 2 and the anonymous part of 3 run in one process per registry, the authenticated part in a second.
#
# Usage: benchmarks/load/compare.sh [options]
#   --runs N         upload, download and skopeo runs per registry; the best is reported (default 3)
#   --duration S     seconds of each wrk and hey run (default 10, at most 240, because a bearer token is
#                    valid for 5 minutes by default)
#   --size-mib N     size of the random blob and of the image layer's content, in MiB (default 256)
#   --skip-1gib      skip the 1 GiB memory check
#   --output FILE    write the report to FILE instead of docs/benchmarks.md (overwritten)
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
blob="$work_dir/blob.bin"
write_random_file "$blob" "$size_mib"
blob_bytes=$(stat -c %s "$blob")
blob_digest="$(file_digest "$blob")"

echo "Building an OCI layout with the same bytes as its one layer..."
large_layout="$work_dir/large-layout"
mkdir -p "$work_dir/rootfs/data"
cp "$blob" "$work_dir/rootfs/data/random.bin"
write_single_layer_layout "$large_layout" "$work_dir/rootfs"
rm -rf "$work_dir/rootfs"
large_image_bytes=$IMAGE_BYTES

echo "Building an OCI layout with 64 KiB of random bytes for the request-rate runs..."
small_layout="$work_dir/small-layout"
mkdir -p "$work_dir/rootfs/data"
head -c 65536 /dev/urandom >"$work_dir/rootfs/data/random.bin"
write_single_layer_layout "$small_layout" "$work_dir/rootfs"
rm -rf "$work_dir/rootfs"
small_layer_digest=$LAYER_DIGEST

echo "Building samples/Dtr.Sample.Host (Release)..."
host_dll="$(build_dtr_host)"

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

# Starts a registry with START_ARGUMENTS (as start_registry takes them) and runs the anonymous measurements on it:
# blob transfers, skopeo transfers and request rates, then the process's VmHWM. SIDE keys the figures and LABEL
# names the registry in progress lines.
measure_anonymous_run() {
  local side="$1" label="$2"
  start_registry "${@:3}"
  echo "Anonymous run: $label at $REGISTRY_ADDRESS, PID $REGISTRY_PID"
  figures[$side:open_idle_kib]=$(read_idle_vmhwm_kib)

  measure_blob_transfers "$side"
  measure_skopeo_transfers "$label" "$large_layout" "$large_image_bytes" "$runs"
  figures[$side:skopeo_push]=$best_push
  figures[$side:skopeo_pull]=$best_pull

  push_image "$small_layout" "docker://$REGISTRY_ADDRESS/bench/small:1"
  measure_manifest_reads "$side:open" bench/small
  measure_blob_heads "$side:open" bench/small

  figures[$side:open_peak_kib]=$(read_vmhwm_kib "$REGISTRY_PID")
  stop_registry
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
# A new token before each run keeps it well inside its 5-minute lifetime.
token="$(fetch_bearer_token "reader:$reader_password" repository:bench/private:pull)"
measure_manifest_reads dtr:auth bench/private "Authorization: Bearer $token"
token="$(fetch_bearer_token "reader:$reader_password" repository:bench/private:pull)"
measure_blob_heads dtr:auth bench/private "Authorization: Bearer $token"
figures[dtr:auth_peak_kib]=$(read_vmhwm_kib "$REGISTRY_PID")
stop_registry

echo "Authenticated run: docker-registry $reference_version with htpasswd"
htpasswd -Bbn reader "$reader_password" >"$work_dir/htpasswd"
start_registry docker-registry "$work_dir/htpasswd"
echo "  at $REGISTRY_ADDRESS, PID $REGISTRY_PID"
figures[reference:auth_idle_kib]=$(read_idle_vmhwm_kib)
push_image "$small_layout" "docker://$REGISTRY_ADDRESS/bench/private:1" "reader:$reader_password"
basic="Authorization: Basic $(printf '%s' "reader:$reader_password" | base64 -w0)"
measure_manifest_reads reference:auth bench/private "$basic"
measure_blob_heads reference:auth bench/private "$basic"
figures[reference:auth_peak_kib]=$(read_vmhwm_kib "$REGISTRY_PID")
stop_registry

if [ "$skip_1gib" = false ]; then
  echo "Memory check: 1 GiB monolithic PUT and GET on a new Dtr sample host"
  large_blob="$work_dir/blob-1gib.bin"
  write_random_file "$large_blob" 1024
  large_blob_bytes=$(stat -c %s "$large_blob")
  large_blob_digest="$(file_digest "$large_blob")"
  start_registry dtr "$host_dll" --Logging:LogLevel:Default=Warning
  echo "  at $REGISTRY_ADDRESS, PID $REGISTRY_PID"
  growth_idle_kib=$(read_idle_vmhwm_kib)
  put_blob_monolithic bench/large "$large_blob" "$large_blob_digest"
  echo "  PUT $(megabytes_per_second "$large_blob_bytes" 0 "$transfer_seconds") MB/s"
  get_blob_to_null bench/large "$large_blob_digest" "$large_blob_bytes"
  echo "  GET $(megabytes_per_second "$large_blob_bytes" 0 "$transfer_seconds") MB/s"
  growth_peak_kib=$(read_vmhwm_kib "$REGISTRY_PID")
  stop_registry
  rm -f "$large_blob"
  echo "  VmHWM $growth_idle_kib KiB after start-up, $growth_peak_kib KiB after the transfers"
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

transfer_note="$size_mib MiB, MB/s, best of $runs"
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
if [ "$skip_1gib" = false ]; then
  growth_kib=$((growth_peak_kib - growth_idle_kib))
  if [ "$growth_kib" -le $((growth_budget_mib * 1024)) ]; then
    growth_met="met"
  else
    growth_met="not met"
  fi
  table_rows+=("| VmHWM growth over a 1 GiB PUT and GET, MiB | $(mebibytes "$growth_kib") | - | - | <= $growth_budget_mib MiB | $growth_met |")
else
  table_rows+=("| VmHWM growth over a 1 GiB PUT and GET, MiB | skipped | - | - | <= $growth_budget_mib MiB | - |")
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
  local data_device runtime
  data_device="$(df -T "$work_dir" | awk 'NR == 2 { print $1 ", " $2 }')"
  runtime="$(dotnet --list-runtimes | awk '$1 == "Microsoft.NETCore.App" { version = $2 } END { print version }')"
  echo "- $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  echo "- $(awk '/^MemTotal:/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo) GiB memory"
  echo "- Linux $(uname -r), Debian $(cat /etc/debian_version)"
  echo "- data folder under $(dirname "$work_dir") on $data_device (\`df -T\`)"
  echo "- .NET runtime $runtime (Microsoft.NETCore.App), docker-registry $reference_version"
  echo "- curl $(curl --version | awk 'NR == 1 { print $2 }'), skopeo $(skopeo --version | awk '{ print $NF }')," \
    "wrk $(dpkg-query -W -f='${Version}' wrk), hey $(dpkg-query -W -f='${Version}' hey)"
  echo "- load average (1, 5, 15 minutes) $load_at_start at the start, $load_at_end at the end"
}

mkdir -p "$(dirname "$output")"
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
  echo "  metadata in a temporary data folder) and \`--Logging:LogLevel:Default=Warning\`. Authentication is off for"
  echo "  the anonymous run and the 1 GiB check. The authenticated run adds \`--Registry:Auth:Enabled=true\` and reads"
  echo "  with a bearer token from \`/auth/token\` (scope \`repository:bench/private:pull\`) of a user whose team has"
  echo "  read-only access to the private repository."
  echo "- docker-registry $reference_version (Debian package): filesystem storage in a temporary data folder, log"
  echo "  level warn, \`storage.delete.enabled: true\`. The authenticated run adds htpasswd basic authentication"
  echo "  with a bcrypt entry from \`htpasswd -B\`, sent as an \`Authorization: Basic\` header on every request."
  echo "- Both listen on 127.0.0.1 and run one at a time, each idle for 2 s after start-up."
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
  echo "- MB/s is 10^6 bytes per second. Transfer figures are the best of $runs runs."
  echo "- Request rates: one run each of $duration s at $connections connections. GET manifest runs with wrk"
  echo "  ($wrk_threads threads, \`--latency\`), and HEAD of a 64 KiB layer blob with \`hey -z ${duration}s -c $connections -m HEAD\`."
  echo "  Every URL returned 200 before its run, and a run fails on any response that is not 2xx."
  echo "- VmHWM is the server process's peak resident set size from \`/proc/PID/status\`: after start-up and 2 s"
  echo "  idle, and at the end of the process's run, so the peak covers every measurement made in that process."
  echo "  The anonymous run (transfers and anonymous request rates) and the authenticated run are separate processes."
  echo "- The 1 GiB check starts a new sample host, reads VmHWM after 2 s idle, sends a 1 GiB random blob with one"
  echo "  monolithic PUT, GETs it to /dev/null, and reads VmHWM again. The goal is a growth of at most $growth_budget_mib MiB."
  echo "- Ratios are Dtr / docker-registry. Client and servers share the same machine and disk."
} >"$output"
echo
echo "Wrote $output"
