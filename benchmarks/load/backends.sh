#!/usr/bin/env bash
# Measures the sample host on each storage backend in one run: the embedded default (filesystem blobs and SQLite
# metadata), s3rver with PostgreSQL, and Azurite with PostgreSQL.
#
# For each backend the sample host starts on a loopback port with authentication off; skopeo pushes and pulls
# an OCI image with one layer of incompressible random bytes RUNS times (best MB/s of each direction, 10^6
# bytes per second, is reported), and wrk sends GET manifest requests for DURATION seconds. PostgreSQL runs as a
# throwaway cluster, and s3rver and Azurite run from tests/tools (scripts/test.sh installs them there); all of
# them listen on 127.0.0.1 only, keep their data under one temporary folder, and stop when the script exits.
#
# Usage: benchmarks/load/backends.sh [--size-mib N] [--runs N] [--duration S] [--connections N] [--backends LIST]
#   --size-mib N      size of the random layer content in MiB (default 256)
#   --runs N          push and pull runs per backend; the best is reported (default 3)
#   --duration S      seconds of each wrk run (default 10)
#   --connections N   open HTTP connections of each wrk run (default 32)
#   --backends LIST   comma-separated subset of filesystem, s3, azure to measure (default all three)
# Needs skopeo, wrk, curl, node, PostgreSQL's server programs (apt-get install postgresql) and
# tests/tools/node_modules with s3rver and azurite. Must run as root, because the cluster runs as postgres.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

size_mib=256
runs=3
duration=10
connections=32
backends="filesystem,s3,azure"
while [ $# -gt 0 ]; do
  case "$1" in
    --size-mib) size_mib="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --backends) backends="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown option '$1'. Run with --help for the options." >&2; exit 1 ;;
  esac
done

for tool in skopeo wrk curl node gzip tar sha256sum runuser; do
  command -v "$tool" >/dev/null || { echo "error: $tool is missing. Install it with apt-get." >&2; exit 1; }
done
tools="$repo_root/tests/tools/node_modules"
for module in s3rver/bin/s3rver.js azurite/dist/src/blob/main.js; do
  [ -f "$tools/$module" ] || { echo "error: $tools/$module is missing. Run scripts/test.sh once, which installs it." >&2; exit 1; }
done
pg_bin="$(compgen -G '/usr/lib/postgresql/*/bin' | sort -V | tail -n 1 || true)"
[ -x "$pg_bin/initdb" ] || { echo "error: PostgreSQL's initdb was not found under /usr/lib/postgresql. Install it with apt-get install postgresql." >&2; exit 1; }

# PostgreSQL: a throwaway cluster owned by the postgres user, stopped by the exit trap through pg_ctl.
pg_dir="$(mktemp -d /tmp/dtr-pg-XXXXXX)"
chown postgres:postgres "$pg_dir"
chmod 700 "$pg_dir"
pg_port="$(find_free_port)"
runuser -u postgres -- "$pg_bin/initdb" -D "$pg_dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 -N >"$pg_dir/initdb.log" 2>&1
runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 30 \
  -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_dir" start >/dev/null
stop_postgres() {
  runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$pg_dir"
}
trap 'stop_postgres; cleanup' EXIT
postgres_connection() {
  local database="$1"
  runuser -u postgres -- "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -qc "CREATE DATABASE $database" >/dev/null
  echo "Host=127.0.0.1;Port=$pg_port;Database=$database;Username=postgres"
}

# s3rver and Azurite, each with its own data folder under $work_dir.
s3_port="$(find_free_port)"
mkdir -p "$work_dir/s3rver"
NODE_OPTIONS=--openssl-legacy-provider node "$tools/s3rver/bin/s3rver.js" -d "$work_dir/s3rver" -a 127.0.0.1 -p "$s3_port" \
  --configure-bucket registry --no-vhost-buckets --silent >"$work_dir/s3rver.log" 2>&1 &
started_pids+=($!)
azure_port="$(find_free_port)"
mkdir -p "$work_dir/azurite"
node "$tools/azurite/dist/src/blob/main.js" --blobHost 127.0.0.1 --blobPort "$azure_port" --location "$work_dir/azurite" \
  --skipApiVersionCheck --loose --disableTelemetry --silent >"$work_dir/azurite.log" 2>&1 &
started_pids+=($!)
# The emulator's published development account; it is no secret.
azure_key='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
azure_connection="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$azure_key;BlobEndpoint=http://127.0.0.1:$azure_port/devstoreaccount1;"
for port in "$s3_port" "$azure_port"; do
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
done

echo "Building an OCI layout with a $size_mib MiB random layer..."
layout="$work_dir/layout"
mkdir -p "$work_dir/rootfs/data"
write_random_file "$work_dir/rootfs/data/random.bin" "$size_mib"
write_single_layer_layout "$layout" "$work_dir/rootfs"
rm -rf "$work_dir/rootfs"
image_bytes=$IMAGE_BYTES

# Sends GET manifest requests with wrk and sets rps. Fails when any response was not 2xx.
measure_manifest_rate() {
  local url="http://$REGISTRY_ADDRESS/v2/bench/skopeo-1/manifests/1"
  local accept="Accept: application/vnd.oci.image.manifest.v1+json"
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "$accept" "$url")" = 200 ] || {
    echo "error: GET $url did not return 200 before the load run." >&2; return 1; }
  wrk -t 2 -c "$connections" -d "${duration}s" -H "$accept" "$url" >"$work_dir/wrk.log" 2>&1 || {
    echo "error: wrk against $url failed:" >&2; cat "$work_dir/wrk.log" >&2; return 1; }
  if grep -q 'Non-2xx or 3xx responses' "$work_dir/wrk.log"; then
    echo "error: some responses from $url under load were not 2xx:" >&2; cat "$work_dir/wrk.log" >&2; return 1
  fi
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$work_dir/wrk.log")
  echo "  GET manifest: $rps requests/s"
}

echo "Building samples/Dtr.Sample.Host (Release)..."
host_dll="$(build_dtr_host)"

results=()
# Runs the whole measurement on one backend; LABEL names it and the remaining arguments configure the host.
measure_backend() {
  local label="$1"
  shift
  start_registry dtr "$host_dll" "$@"
  echo "Measuring $label at $REGISTRY_ADDRESS..."
  measure_skopeo_transfers "$label" "$layout" "$image_bytes" "$runs"
  measure_manifest_rate
  results+=("$(printf '%-24s %10s %10s %14s' "$label" "$best_push" "$best_pull" "$rps")")
  stop_registry
}

selected() {
  [[ ",$backends," == *",$1,"* ]]
}

if selected filesystem; then
  measure_backend "filesystem + SQLite"
fi
if selected s3; then
  measure_backend "s3rver + PostgreSQL" \
    --Storage:Driver=S3 --Storage:S3:ServiceUrl="http://127.0.0.1:$s3_port" --Storage:S3:ForcePathStyle=true \
    --Storage:S3:Region=us-east-1 --Storage:S3:Bucket=registry --Storage:S3:AccessKey=S3RVER --Storage:S3:SecretKey=S3RVER \
    --Storage:S3:UseChunkEncoding=false \
    --Metadata:Provider=PostgreSql --Metadata:PostgreSql:ConnectionString="$(postgres_connection bench_s3)"
fi
if selected azure; then
  measure_backend "Azurite + PostgreSQL" \
    --Storage:Driver=AzureBlob --Storage:AzureBlob:ConnectionString="$azure_connection" --Storage:AzureBlob:ContainerName=registry --Storage:AzureBlob:CreateContainerIfMissing=true \
    --Metadata:Provider=PostgreSql --Metadata:PostgreSql:ConnectionString="$(postgres_connection bench_azure)"
fi

echo
echo "skopeo $(skopeo --version | awk '{print $NF}'), image of $(awk -v b="$image_bytes" 'BEGIN { printf "%.1f", b / 1048576 }') MiB (one gzip layer of random bytes), best of $runs runs; wrk $duration s, $connections connections"
echo "Machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
printf '%-24s %10s %10s %14s\n' "backend" "push MB/s" "pull MB/s" "manifest GET/s"
printf '%s\n' "${results[@]}"
