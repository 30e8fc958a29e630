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

if ! command -v htpasswd >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: htpasswd is missing. Install apache2-utils with apt-get, or run this script as root." >&2
    exit 1
  fi
  echo "Installing apache2-utils (htpasswd) with apt-get..."
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends apache2-utils </dev/null >/dev/null
fi
for tool in wrk skopeo docker-registry htpasswd curl jq gzip tar sha256sum; do
  command -v "$tool" >/dev/null || { echo "error: $tool is missing. Install it with apt-get." >&2; exit 1; }
done

manifest_accept="Accept: application/vnd.oci.image.manifest.v1+json"
admin_password="admin-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
reader_password="reader-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"

echo "Building a small OCI layout (64 KiB of random bytes in one layer)..."
layout="$work_dir/layout"
mkdir -p "$work_dir/rootfs/data"
head -c 65536 /dev/urandom >"$work_dir/rootfs/data/random.bin"
write_single_layer_layout "$layout" "$work_dir/rootfs"
rm -rf "$work_dir/rootfs"

# Pushes the layout's image to REFERENCE (docker://...) with skopeo, signing in with USER:PASSWORD when given.
push_image() {
  local reference="$1" credentials="${2:-}"
  local sign_in=(--dest-no-creds)
  if [ -n "$credentials" ]; then
    sign_in=(--dest-creds "$credentials")
  fi
  if ! skopeo --insecure-policy copy --quiet --dest-tls-verify=false "${sign_in[@]}" \
      "oci:$layout:1" "$reference" >"$work_dir/skopeo.log" 2>&1; then
    echo "error: skopeo push to $reference failed:" >&2
    cat "$work_dir/skopeo.log" >&2
    return 1
  fi
}

# Calls the sample host's management API as the administrator: METHOD PATH [JSON].
management_api() {
  local method="$1" path="$2" body="${3:-}"
  local arguments=(-sS --fail-with-body -u "admin:$admin_password" -X "$method" "http://$REGISTRY_ADDRESS/api/v0/$path")
  if [ -n "$body" ]; then
    arguments+=(-H "Content-Type: application/json" -d "$body")
  fi
  curl "${arguments[@]}" >"$work_dir/api.log" 2>&1 || {
    echo "error: $method /api/v0/$path failed:" >&2
    cat "$work_dir/api.log" >&2
    return 1
  }
}

# Checks that GET URL with the optional HEADER returns 200, so a wrong credential is not measured as a fast 401.
check_get() {
  local url="$1" header="${2:-}" status
  local arguments=(-s -o /dev/null -w '%{http_code}' -H "$manifest_accept")
  if [ -n "$header" ]; then
    arguments+=(-H "$header")
  fi
  status="$(curl "${arguments[@]}" "$url" || true)"
  if [ "$status" != "200" ]; then
    echo "error: GET $url returned $status before the load run; expected 200." >&2
    return 1
  fi
}

# Runs wrk against URL with the optional HEADER and sets rps and p99_ms. Fails when any response was not 2xx.
run_wrk() {
  local url="$1" header="${2:-}"
  local arguments=(-t "$threads" -c "$connections" -d "${duration}s" --latency -H "$manifest_accept")
  if [ -n "$header" ]; then
    arguments+=(-H "$header")
  fi
  wrk "${arguments[@]}" "$url" >"$work_dir/wrk.log" 2>&1 || {
    echo "error: wrk against $url failed:" >&2
    cat "$work_dir/wrk.log" >&2
    return 1
  }
  if grep -q 'Non-2xx or 3xx responses' "$work_dir/wrk.log"; then
    echo "error: some responses from $url under load were not 2xx:" >&2
    cat "$work_dir/wrk.log" >&2
    return 1
  fi
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$work_dir/wrk.log")
  # wrk prints the percentile with its unit (us, ms or s); convert to milliseconds.
  p99_ms=$(awk '$1 == "99%" {
      value = $2; unit = value; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", value)
      factor = (unit == "us") ? 0.001 : (unit == "s") ? 1000 : (unit == "m") ? 60000 : 1
      printf "%.2f", value * factor }' "$work_dir/wrk.log")
  echo "  $url: $rps requests/s, p99 $p99_ms ms"
}

echo "Building samples/Dtr.Sample.Host (Release)..."
host_dll="$(build_dtr_host)"
start_registry dtr "$host_dll" --Registry:Auth:Enabled=true "--Registry:Admin:Password=$admin_password" \
  --Logging:LogLevel:Default=Warning
echo "Setting up the sample host at $REGISTRY_ADDRESS..."
management_api POST organizations '{"name":"bench"}'
management_api POST organizations/bench/teams '{"name":"readers"}'
management_api POST users "{\"name\":\"reader\",\"password\":\"$reader_password\"}"
management_api PUT organizations/bench/teams/readers/members/reader
management_api POST repositories/bench '{"name":"private","visibility":"private"}'
management_api POST repositories/bench '{"name":"public","visibility":"public"}'
management_api PUT repositories/bench/private/teamAccess/readers '{"accessLevel":"read-only"}'
push_image "docker://$REGISTRY_ADDRESS/bench/private:1" "admin:$admin_password"
push_image "docker://$REGISTRY_ADDRESS/bench/public:1" "admin:$admin_password"

# The token server's address and service name come from the challenge, as a client would read them.
challenge="$(curl -s -o /dev/null -D - "http://$REGISTRY_ADDRESS/v2/" | tr -d '\r' | awk -F': ' 'tolower($1) == "www-authenticate" { print $2 }')"
realm="$(sed -n 's/.*realm="\([^"]*\)".*/\1/p' <<<"$challenge")"
service="$(sed -n 's/.*service="\([^"]*\)".*/\1/p' <<<"$challenge")"
token="$(curl -sS --fail -u "reader:$reader_password" -G "$realm" --data-urlencode "service=$service" \
  --data-urlencode "scope=repository:bench/private:pull" | jq -r .token)"
ours_url="http://$REGISTRY_ADDRESS/v2/bench/private/manifests/1"
check_get "$ours_url" "Authorization: Bearer $token"
echo "Measuring the sample host with a bearer token..."
run_wrk "$ours_url" "Authorization: Bearer $token"
ours_token_rps=$rps
ours_token_p99=$p99_ms
if [ "$anonymous" = true ]; then
  ours_open_url="http://$REGISTRY_ADDRESS/v2/bench/public/manifests/1"
  check_get "$ours_open_url"
  echo "Measuring the sample host anonymously on a public repository..."
  run_wrk "$ours_open_url"
  ours_open_rps=$rps
  ours_open_p99=$p99_ms
fi
stop_registry

reference_label="docker-registry $(docker-registry --version 2>/dev/null | awk '{print $NF}')"
htpasswd -Bbn reader "$reader_password" >"$work_dir/htpasswd"
start_registry docker-registry "$work_dir/htpasswd"
push_image "docker://$REGISTRY_ADDRESS/bench/private:1" "reader:$reader_password"
basic="Authorization: Basic $(printf '%s' "reader:$reader_password" | base64 -w0)"
reference_url="http://$REGISTRY_ADDRESS/v2/bench/private/manifests/1"
check_get "$reference_url" "$basic"
echo "Measuring $reference_label with basic authentication..."
run_wrk "$reference_url" "$basic"
reference_basic_rps=$rps
reference_basic_p99=$p99_ms
stop_registry

if [ "$anonymous" = true ]; then
  start_registry docker-registry
  push_image "docker://$REGISTRY_ADDRESS/bench/public:1"
  reference_open_url="http://$REGISTRY_ADDRESS/v2/bench/public/manifests/1"
  check_get "$reference_open_url"
  echo "Measuring $reference_label without authentication..."
  run_wrk "$reference_open_url"
  reference_open_rps=$rps
  reference_open_p99=$p99_ms
  stop_registry
fi

# Prints OURS / REFERENCE with two decimals.
ratio() {
  awk -v ours="$1" -v reference="$2" 'BEGIN { if (reference > 0) printf "%.2f", ours / reference; else print "n/a" }'
}

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
