#!/usr/bin/env bash
# Compares authenticated manifest reads of the Dtr sample host with Debian's docker-registry.
#
# The sample host runs in Release with authentication on. Through its management API the script creates an
# organization, a team with read-only access to a private repository, a member of that team and a public
# repository, and pushes one small image to both repositories. docker-registry runs with htpasswd basic
# authentication (bcrypt, which is the only hash it accepts). wrk then sends GET manifest requests for
# DURATION seconds at CONNECTIONS connections to each:
#   ours, token       the team member's bearer token from /auth/token (pull scope) on the private repository
#   reference, basic  Authorization: Basic with the htpasswd user
#   ours, anonymous   no Authorization header, on the public repository
#   reference, open   a second docker-registry without auth (skipped with --no-anonymous)
# It prints requests per second and the p99 latency of each, with the ratio ours / reference. Both registries
# log warnings and errors only, so request logging does not weigh on either.
#
# Usage: benchmarks/load/auth-compare.sh [--duration S] [--connections N] [--threads N] [--no-anonymous]
#   --duration S      seconds per wrk run (default 10); keep it under the bearer token's lifetime
#                     (Registry:Auth:TokenLifetime, 5 minutes by default), or the run fails with 401s
#   --connections N   open HTTP connections per wrk run (default 32)
#   --threads N       wrk threads (default 2)
#   --no-anonymous    measure only the authenticated pair
# Needs wrk, skopeo, docker-registry, htpasswd (apache2-utils, installed with apt-get when missing and run as
# root), curl and jq. Exits 1 when a registry fails to start or a request under load does not return 200.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

duration=10
connections=32
threads=2
anonymous=true
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --no-anonymous) anonymous=false; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown option '$1'. Run with --help for the options." >&2; exit 1 ;;
  esac
done

require_htpasswd
require_tools wrk skopeo docker-registry htpasswd curl jq gzip tar sha256sum

manifest_accept="Accept: application/vnd.oci.image.manifest.v1+json"
admin_password="admin-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
reader_password="reader-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"

echo "Building a small OCI layout (64 KiB of random bytes in one layer)..."
layout="$work_dir/layout"
mkdir -p "$work_dir/rootfs/data"
head -c 65536 /dev/urandom >"$work_dir/rootfs/data/random.bin"
write_single_layer_layout "$layout" "$work_dir/rootfs"
rm -rf "$work_dir/rootfs"

echo "Building samples/Dtr.Sample.Host (Release)..."
host_dll="$(build_dtr_host)"
start_registry dtr "$host_dll" --Registry:Auth:Enabled=true "--Registry:Admin:Password=$admin_password" \
  --Logging:LogLevel:Default=Warning
echo "Setting up the sample host at $REGISTRY_ADDRESS..."
set_up_dtr_access "$layout" "$admin_password" "$reader_password"

token="$(fetch_bearer_token "reader:$reader_password" repository:bench/private:pull)"
ours_url="http://$REGISTRY_ADDRESS/v2/bench/private/manifests/1"
check_status GET "$ours_url" "$manifest_accept" "Authorization: Bearer $token"
echo "Measuring the sample host with a bearer token..."
run_wrk "$threads" "$connections" "$duration" "$ours_url" "$manifest_accept" "Authorization: Bearer $token"
ours_token_rps=$rps
ours_token_p99=$p99_ms
if [ "$anonymous" = true ]; then
  ours_open_url="http://$REGISTRY_ADDRESS/v2/bench/public/manifests/1"
  check_status GET "$ours_open_url" "$manifest_accept"
  echo "Measuring the sample host anonymously on a public repository..."
  run_wrk "$threads" "$connections" "$duration" "$ours_open_url" "$manifest_accept"
  ours_open_rps=$rps
  ours_open_p99=$p99_ms
fi
stop_registry

reference_label="docker-registry $(docker-registry --version 2>/dev/null | awk '{print $NF}')"
htpasswd -Bbn reader "$reader_password" >"$work_dir/htpasswd"
start_registry docker-registry "$work_dir/htpasswd"
push_image "$layout" "docker://$REGISTRY_ADDRESS/bench/private:1" "reader:$reader_password"
basic="Authorization: Basic $(printf '%s' "reader:$reader_password" | base64 -w0)"
reference_url="http://$REGISTRY_ADDRESS/v2/bench/private/manifests/1"
check_status GET "$reference_url" "$manifest_accept" "$basic"
echo "Measuring $reference_label with basic authentication..."
run_wrk "$threads" "$connections" "$duration" "$reference_url" "$manifest_accept" "$basic"
reference_basic_rps=$rps
reference_basic_p99=$p99_ms
stop_registry

if [ "$anonymous" = true ]; then
  start_registry docker-registry
  push_image "$layout" "docker://$REGISTRY_ADDRESS/bench/public:1"
  reference_open_url="http://$REGISTRY_ADDRESS/v2/bench/public/manifests/1"
  check_status GET "$reference_open_url" "$manifest_accept"
  echo "Measuring $reference_label without authentication..."
  run_wrk "$threads" "$connections" "$duration" "$reference_open_url" "$manifest_accept"
  reference_open_rps=$rps
  reference_open_p99=$p99_ms
  stop_registry
fi

echo
echo "wrk $(wrk -v 2>&1 | awk 'NR == 1 { print $2 }'), GET manifest of a 64 KiB image, $connections connections, $threads threads, ${duration} s per run"
echo "Machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
printf '| %-41s | %14s | %14s | %6s |\n' "figure" "ours (Dtr)" "reference" "ratio"
printf '| %-41s | %14s | %14s | %6s |\n' "---" "---" "---" "---"
printf '| %-41s | %14s | %14s | %6s |\n' "requests/s, bearer token vs basic" "$ours_token_rps" "$reference_basic_rps" "$(ratio "$ours_token_rps" "$reference_basic_rps")"
printf '| %-41s | %14s | %14s | %6s |\n' "p99 ms, bearer token vs basic" "$ours_token_p99" "$reference_basic_p99" "$(ratio "$ours_token_p99" "$reference_basic_p99")"
if [ "$anonymous" = true ]; then
  printf '| %-41s | %14s | %14s | %6s |\n' "requests/s, anonymous (public repository)" "$ours_open_rps" "$reference_open_rps" "$(ratio "$ours_open_rps" "$reference_open_rps")"
  printf '| %-41s | %14s | %14s | %6s |\n' "p99 ms, anonymous (public repository)" "$ours_open_p99" "$reference_open_p99" "$(ratio "$ours_open_p99" "$reference_open_p99")"
fi
echo "Reference: $reference_label, htpasswd (bcrypt) for the basic row and no auth for the anonymous row."
