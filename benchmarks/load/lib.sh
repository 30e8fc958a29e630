#!/usr/bin/env bash
# Helpers shared by the load scripts in this folder: start registries on loopback ports with temporary data
# folders, and stop every process and delete every folder they started when the calling script exits.
# Source this file after `set -euo pipefail`.

# shellcheck disable=SC2034  # The functions set globals (IMAGE_BYTES, rps, transfer_seconds, ...) for the caller.
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work_dir="$(mktemp -d -t dtr-load-XXXXXX)"
# Folder for the registries' data folders and the large files the client sends. use_data_root moves it.
data_dir="$work_dir"
started_pids=()

cleanup() {
  local pid
  for pid in "${started_pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$work_dir"
  if [ "$data_dir" != "$work_dir" ]; then
    rm -rf "$data_dir"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Moves data_dir to a new folder under DIR, which must be an existing, writable folder, so that the registries'
# data and the client's files sit on DIR's filesystem (for example /dev/shm to keep the disk out of the figures).
use_data_root() {
  local root="$1"
  if [ ! -d "$root" ]; then
    echo "error: the data root '$root' is not an existing folder. Create it or pass another one." >&2
    return 1
  fi
  if [ ! -w "$root" ]; then
    echo "error: the data root '$root' is not writable by $(id -un). Pass a folder you can write to." >&2
    return 1
  fi
  data_dir="$(mktemp -d "$root/dtr-load-XXXXXX")"
}

# Prints a TCP port on 127.0.0.1 that nothing listens on. It picks from below the kernel's range of ephemeral
# ports (ip_local_port_range, 32768 and up by default), because a client connection of the load tools can hold any
# port in that range, and a server then fails to bind it.
find_free_port() {
  local port lowest_ephemeral
  lowest_ephemeral="$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)"
  if [ "$lowest_ephemeral" -le 11000 ]; then
    lowest_ephemeral=32768
  fi
  for _ in $(seq 1 100); do
    port=$((10000 + RANDOM % (lowest_ephemeral - 10000)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "error: no free port found on 127.0.0.1 after 100 tries." >&2
  return 1
}

# Waits until GET http://ADDRESS/v2/ returns 200, or 401 from a registry that requires sign-in. Fails early
# when process PID exits, printing LOG.
wait_for_registry() {
  local address="$1" pid="$2" log="$3" timeout_seconds="${4:-90}"
  local deadline=$((SECONDS + timeout_seconds))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "error: the registry process $pid exited before GET /v2/ returned 200. Its output:" >&2
      tail -n 50 "$log" >&2
      return 1
    fi
    case "$(curl -s -o /dev/null -w '%{http_code}' "http://$address/v2/" || true)" in
      200|401) return 0 ;;
    esac
    sleep 0.2
  done
  echo "error: GET http://$address/v2/ did not return 200 or 401 within $timeout_seconds s. Registry output:" >&2
  tail -n 50 "$log" >&2
  return 1
}

# Builds the sample host in Release and prints the path of its dll. Fails if the build fails.
build_dtr_host() {
  local project="$repo_root/samples/Dtr.Sample.Host/Dtr.Sample.Host.csproj"
  dotnet build "$project" -c Release -nologo -v quiet >"$work_dir/dtr-build.log" 2>&1 || {
    echo "error: building samples/Dtr.Sample.Host failed. Last lines of the build output:" >&2
    tail -n 20 "$work_dir/dtr-build.log" >&2
    return 1
  }
  dotnet msbuild "$project" -nologo -getProperty:TargetPath -p:Configuration=Release
}

# Starts a registry in the background and sets REGISTRY_PID and REGISTRY_ADDRESS.
#   start_registry dtr DLL [ARG...]      the sample host; build_dtr_host builds it and prints DLL. Authentication
#                                        is off, so the figures compare with the reference registry without
#                                        auth, unless an ARG such as --Registry:Auth:Enabled=true turns it on.
#   start_registry docker-registry [HTPASSWD]
#                                        Debian's docker-registry (CNCF distribution) with filesystem storage,
#                                        with basic authentication against the bcrypt HTPASSWD file when given
#   start_registry command 'CMD'         any command; {port} and {data} in CMD become the port and a data folder
# Every variant binds 127.0.0.1 only, keeps its data in a new folder under $data_dir (set as REGISTRY_DATA), and
# runs with exec, so REGISTRY_PID is the server process itself (the one whose memory the scripts read).
start_registry() {
  local kind="$1" argument="${2:-}"
  local extra_arguments=("${@:3}")
  local port data log
  port="$(find_free_port)"
  data="$(mktemp -d "$data_dir/data-$kind-XXXXXX")"
  log="$data.log"
  REGISTRY_ADDRESS="127.0.0.1:$port"
  REGISTRY_DATA="$data"

  case "$kind" in
    dtr)
      # Later command-line values win, so an ARG can turn authentication back on.
      bash -c 'exec dotnet "$1" --urls "http://$2" "--Registry:DataDirectory=$3" --Registry:Auth:Enabled=false "${@:4}"' \
        _ "$argument" "$REGISTRY_ADDRESS" "$data" "${extra_arguments[@]}" >"$log" 2>&1 &
      ;;
    docker-registry)
      cat >"$data.yml" <<CONFIG
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $data
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDRESS
CONFIG
      if [ -n "$argument" ]; then
        cat >>"$data.yml" <<CONFIG
auth:
  htpasswd:
    realm: docker-registry
    path: $argument
CONFIG
      fi
      bash -c 'exec docker-registry serve "$1"' _ "$data.yml" >"$log" 2>&1 &
      ;;
    command)
      local command_line="${argument//\{port\}/$port}"
      command_line="${command_line//\{data\}/$data}"
      bash -c "exec $command_line" >"$log" 2>&1 &
      ;;
    *)
      echo "error: unknown registry kind '$kind'. Expected dtr, docker-registry or command." >&2
      return 1
      ;;
  esac

  REGISTRY_PID=$!
  started_pids+=("$REGISTRY_PID")
  wait_for_registry "$REGISTRY_ADDRESS" "$REGISTRY_PID" "$log"
}

# Stops the registry started last by start_registry.
stop_registry() {
  if kill -0 "$REGISTRY_PID" 2>/dev/null; then
    kill "$REGISTRY_PID" 2>/dev/null || true
    wait "$REGISTRY_PID" 2>/dev/null || true
  fi
}

# Prints the peak resident set size (VmHWM) of a process in KiB.
read_vmhwm_kib() {
  awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"
}

# Writes SIZE_MIB MiB of random bytes to FILE, streaming from /dev/urandom.
write_random_file() {
  local file="$1" size_mib="$2"
  head -c "$((size_mib * 1024 * 1024))" /dev/urandom >"$file"
}

# Writes an OCI image layout to LAYOUT with one layer, the files under ROOTFS as a tar compressed with gzip -1,
# tagged 1. Sets IMAGE_BYTES to the total size of its manifest, config and layer, and LAYER_DIGEST to the layer's
# digest.
write_single_layer_layout() {
  local layout="$1" rootfs="$2"
  local diff_id layer_size layer_digest config_size config_digest manifest_size manifest_digest
  mkdir -p "$layout/blobs/sha256"

  tar -C "$rootfs" --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$work_dir/layer.tar" .
  diff_id="sha256:$(sha256sum "$work_dir/layer.tar" | cut -d' ' -f1)"
  gzip -1 "$work_dir/layer.tar"
  layer_size=$(stat -c %s "$work_dir/layer.tar.gz")
  layer_digest=$(add_layout_blob "$layout" "$work_dir/layer.tar.gz")

  printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["%s"]}}' "$diff_id" >"$work_dir/config.json"
  config_size=$(stat -c %s "$work_dir/config.json")
  config_digest=$(add_layout_blob "$layout" "$work_dir/config.json")

  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%d}]}' \
    "$config_digest" "$config_size" "$layer_digest" "$layer_size" >"$work_dir/manifest.json"
  manifest_size=$(stat -c %s "$work_dir/manifest.json")
  manifest_digest=$(add_layout_blob "$layout" "$work_dir/manifest.json")

  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"1"}}]}' \
    "$manifest_digest" "$manifest_size" >"$layout/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
  IMAGE_BYTES=$((layer_size + config_size + manifest_size))
  LAYER_DIGEST=$layer_digest
}

# Moves FILE into LAYOUT's blob folder under its sha256 digest and prints the digest.
add_layout_blob() {
  local layout="$1" file="$2" digest
  digest="$(sha256sum "$file" | cut -d' ' -f1)"
  mv "$file" "$layout/blobs/sha256/$digest"
  echo "sha256:$digest"
}

# Prints the current time in seconds with nanoseconds.
now() {
  date +%s.%N
}

# Deletes skopeo's blob-info cache, because skopeo would otherwise mount a layer from an earlier repository
# instead of uploading it again.
clear_skopeo_cache() {
  rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb 2>/dev/null || true
  rm -f "${XDG_DATA_HOME:-$HOME/.local/share}/containers/cache/blob-info-cache-v1.boltdb" 2>/dev/null || true
}

# Prints the MB/s (10^6 bytes per second) of BYTES moved between the timestamps START and END.
megabytes_per_second() {
  awk -v bytes="$1" -v start="$2" -v end="$3" 'BEGIN { printf "%.1f", bytes / 1e6 / (end - start) }'
}

# Prints the larger of two decimal numbers.
max() {
  awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b) ? a : b }'
}

# Pushes the OCI layout LAYOUT (tag 1, IMAGE_BYTES in total) to the registry at $REGISTRY_ADDRESS and pulls it
# back, RUNS times, and sets best_push and best_pull in MB/s. Each run uses a new repository, so a blob stored
# in an earlier one is not skipped. NAME labels the progress lines and errors.
measure_skopeo_transfers() {
  local name="$1" layout="$2" image_bytes="$3" runs="$4"
  local run repository start end push pull
  best_push=0
  best_pull=0
  for run in $(seq 1 "$runs"); do
    repository="bench/skopeo-$run"
    clear_skopeo_cache
    start=$(now)
    if ! skopeo --insecure-policy copy --quiet --dest-tls-verify=false \
        "oci:$layout:1" "docker://$REGISTRY_ADDRESS/$repository:1" >"$work_dir/skopeo.log" 2>&1; then
      echo "error: skopeo push to $name failed:" >&2
      cat "$work_dir/skopeo.log" >&2
      return 1
    fi
    end=$(now)
    push=$(megabytes_per_second "$image_bytes" "$start" "$end")

    rm -rf "$data_dir/pulled"
    start=$(now)
    if ! skopeo --insecure-policy copy --quiet --src-tls-verify=false \
        "docker://$REGISTRY_ADDRESS/$repository:1" "oci:$data_dir/pulled:1" >"$work_dir/skopeo.log" 2>&1; then
      echo "error: skopeo pull from $name failed:" >&2
      cat "$work_dir/skopeo.log" >&2
      return 1
    fi
    end=$(now)
    pull=$(megabytes_per_second "$image_bytes" "$start" "$end")
    echo "  $name run $run: push $push MB/s, pull $pull MB/s"

    best_push=$(max "$best_push" "$push")
    best_pull=$(max "$best_pull" "$pull")
  done
  rm -rf "$data_dir/pulled"
}

# Fails, naming the first missing command, unless every command given is installed.
require_tools() {
  local tool
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null; then
      echo "error: $tool is missing. Install it with apt-get." >&2
      return 1
    fi
  done
}

# Fails unless VALUE is a whole number of at least 0. OPTION names the value in the error.
require_whole_number() {
  local option="$1" value="$2"
  if ! [[ "$value" =~ ^(0|[1-9][0-9]*)$ ]]; then
    echo "error: $option needs a whole number of at least 0, got '$value'." >&2
    return 1
  fi
}

# Fails unless VALUE is a whole number of at least 1. OPTION names the value in the error.
require_positive_integer() {
  local option="$1" value="$2"
  if ! [[ "$value" =~ ^[1-9][0-9]*$ ]]; then
    echo "error: $option needs a whole number of at least 1, got '$value'." >&2
    return 1
  fi
}

# Installs apache2-utils with apt-get when htpasswd is missing, which needs root.
require_htpasswd() {
  if command -v htpasswd >/dev/null; then
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: htpasswd is missing. Install apache2-utils with apt-get, or run this script as root." >&2
    return 1
  fi
  echo "Installing apache2-utils (htpasswd) with apt-get..."
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends apache2-utils </dev/null >/dev/null
}

# Waits 2 s so that start-up work settles, then prints the VmHWM in KiB of the registry started last.
read_idle_vmhwm_kib() {
  sleep 2
  read_vmhwm_kib "$REGISTRY_PID"
}

# Prints OURS / REFERENCE with two decimals, or n/a when either is not a number or REFERENCE is 0.
ratio() {
  awk -v ours="$1" -v reference="$2" 'BEGIN {
    if (ours ~ /^[0-9.]+$/ && reference ~ /^[0-9.]+$/ && reference > 0) printf "%.2f", ours / reference
    else print "n/a"
  }'
}

# Starts an upload session in REPOSITORY at $REGISTRY_ADDRESS, sending each HEADER, and prints its absolute
# Location URL.
start_upload() {
  local repository="$1"
  local base="http://$REGISTRY_ADDRESS" status location header
  local arguments=(-s -X POST -o /dev/null -D "$work_dir/post.headers" -w '%{http_code}')
  for header in "${@:2}"; do
    arguments+=(-H "$header")
  done
  status=$(curl "${arguments[@]}" "$base/v2/$repository/blobs/uploads/")
  location=$(awk 'tolower($1) == "location:" { sub(/\r$/, "", $2); print $2 }' "$work_dir/post.headers")
  if [ "$status" != "202" ] || [ -z "$location" ]; then
    echo "error: POST $base/v2/$repository/blobs/uploads/ returned $status, expected 202 with a Location header." >&2
    return 1
  fi
  case "$location" in
    http*) echo "$location" ;;
    *) echo "$base$location" ;;
  esac
}

# Prints the upload URL LOCATION with the query parameter digest=DIGEST appended.
with_digest() {
  local location="$1" digest="$2"
  case "$location" in
    *\?*) echo "$location&digest=$digest" ;;
    *) echo "$location?digest=$digest" ;;
  esac
}

# Uploads FILE as blob DIGEST to REPOSITORY at $REGISTRY_ADDRESS, sending each HEADER with both requests: a POST
# opens the upload, and one PUT with ?digest= sends the whole file. curl -T streams the file instead of reading it
# into memory, and the empty Expect header skips the wait for 100 Continue. Sets transfer_seconds to curl's total
# time for the PUT.
put_blob_monolithic() {
  local repository="$1" file="$2" digest="$3"
  local location result status header
  local arguments=(-s -o "$work_dir/put.out" -w '%{http_code} %{time_total}' -T "$file" -H 'Expect:'
    -H 'Content-Type: application/octet-stream')
  for header in "${@:4}"; do
    arguments+=(-H "$header")
  done
  location=$(start_upload "$repository" "${@:4}")
  result=$(curl "${arguments[@]}" "$(with_digest "$location" "$digest")")
  status="${result%% *}"
  if [ "$status" != "201" ]; then
    echo "error: monolithic PUT of $file to $repository returned $status, expected 201: $(head -c 500 "$work_dir/put.out")" >&2
    return 1
  fi
  transfer_seconds="${result#* }"
}

# Downloads blob DIGEST of REPOSITORY from $REGISTRY_ADDRESS to /dev/null with each HEADER, following redirects,
# and sets transfer_seconds to curl's total time. Fails unless the response is 200 with EXPECTED_BYTES bytes.
get_blob_to_null() {
  local repository="$1" digest="$2" expected_bytes="$3"
  local url="http://$REGISTRY_ADDRESS/v2/$repository/blobs/$digest" result status bytes seconds header
  local arguments=(-sL -o /dev/null -w '%{http_code} %{size_download} %{time_total}')
  for header in "${@:4}"; do
    arguments+=(-H "$header")
  done
  result=$(curl "${arguments[@]}" "$url")
  read -r status bytes seconds <<<"$result"
  if [ "$status" != "200" ] || [ "$bytes" != "$expected_bytes" ]; then
    echo "error: GET $url returned $status with $bytes bytes, expected 200 with $expected_bytes bytes." >&2
    return 1
  fi
  transfer_seconds="$seconds"
}

# Pushes the image tagged 1 in the OCI layout LAYOUT to REFERENCE (docker://...) with skopeo, signing in with
# USER:PASSWORD when given.
push_image() {
  local layout="$1" reference="$2" credentials="${3:-}"
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

# Calls the sample host's management API at $REGISTRY_ADDRESS as the administrator: ADMIN_PASSWORD METHOD PATH [JSON].
management_api() {
  local admin_password="$1" method="$2" path="$3" body="${4:-}"
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

# Sets up access control on the sample host at $REGISTRY_ADDRESS, which must run with --Registry:Auth:Enabled=true
# and --Registry:Admin:Password=ADMIN_PASSWORD. Through the management API it creates the organization bench with
# the team readers, the user reader (READER_PASSWORD) in that team, the private repository bench/private that the
# team may read, and the public repository bench/public. Then it pushes the image of LAYOUT to both as admin.
set_up_dtr_access() {
  local layout="$1" admin_password="$2" reader_password="$3"
  management_api "$admin_password" POST organizations '{"name":"bench"}'
  management_api "$admin_password" POST organizations/bench/teams '{"name":"readers"}'
  management_api "$admin_password" POST users "{\"name\":\"reader\",\"password\":\"$reader_password\"}"
  management_api "$admin_password" PUT organizations/bench/teams/readers/members/reader
  management_api "$admin_password" POST repositories/bench '{"name":"private","visibility":"private"}'
  management_api "$admin_password" POST repositories/bench '{"name":"public","visibility":"public"}'
  management_api "$admin_password" PUT repositories/bench/private/teamAccess/readers '{"accessLevel":"read-only"}'
  push_image "$layout" "docker://$REGISTRY_ADDRESS/bench/private:1" "admin:$admin_password"
  push_image "$layout" "docker://$REGISTRY_ADDRESS/bench/public:1" "admin:$admin_password"
}

# Prints a bearer token for USER:PASSWORD with SCOPE (for example repository:bench/private:pull). The token
# server's address and service name come from the WWW-Authenticate challenge of GET /v2/ at $REGISTRY_ADDRESS,
# as a client would read them.
fetch_bearer_token() {
  local credentials="$1" scope="$2" challenge realm service token
  challenge="$(curl -s -o /dev/null -D - "http://$REGISTRY_ADDRESS/v2/" | tr -d '\r' | awk -F': ' 'tolower($1) == "www-authenticate" { print $2 }')"
  realm="$(sed -n 's/.*realm="\([^"]*\)".*/\1/p' <<<"$challenge")"
  service="$(sed -n 's/.*service="\([^"]*\)".*/\1/p' <<<"$challenge")"
  if [ -z "$realm" ]; then
    echo "error: GET http://$REGISTRY_ADDRESS/v2/ returned no bearer challenge with a realm. Start the host with --Registry:Auth:Enabled=true." >&2
    return 1
  fi
  token="$(curl -sS --fail -u "$credentials" -G "$realm" --data-urlencode "service=$service" \
    --data-urlencode "scope=$scope" | jq -r .token)"
  if [ -z "$token" ] || [ "$token" = null ]; then
    echo "error: the token server at $realm returned no token for scope $scope." >&2
    return 1
  fi
  echo "$token"
}

# Fails unless METHOD (GET or HEAD) URL with each HEADER returns 200, so that a wrong credential or path is not
# measured as a fast 401 or 404.
check_status() {
  local method="$1" url="$2" header status
  local arguments=(-s -o /dev/null -w '%{http_code}')
  if [ "$method" = HEAD ]; then
    arguments+=(--head)
  fi
  for header in "${@:3}"; do
    arguments+=(-H "$header")
  done
  status="$(curl "${arguments[@]}" "$url" || true)"
  if [ "$status" != "200" ]; then
    echo "error: $method $url returned $status before the load run; expected 200." >&2
    return 1
  fi
}

# Sends GET requests to URL with wrk, THREADS threads and CONNECTIONS connections for DURATION seconds, with each
# HEADER, and sets rps and p99_ms. Fails when wrk fails or any response was not 2xx or 3xx.
run_wrk() {
  local threads="$1" connections="$2" duration="$3" url="$4" header
  local arguments=(-t "$threads" -c "$connections" -d "${duration}s" --latency)
  for header in "${@:5}"; do
    arguments+=(-H "$header")
  done
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
  # wrk prints the percentile with its unit (us, ms or s), so convert it to milliseconds.
  p99_ms=$(awk '$1 == "99%" {
      value = $2; unit = value; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", value)
      factor = (unit == "us") ? 0.001 : (unit == "s") ? 1000 : (unit == "m") ? 60000 : 1
      printf "%.2f", value * factor }' "$work_dir/wrk.log")
  echo "  GET $url: $rps requests/s, p99 $p99_ms ms"
}

# Sends HEAD requests to URL with hey from CONNECTIONS workers for DURATION seconds, with each HEADER, and sets rps
# and p99_ms. wrk 4.1 completes no HEAD request whose response has a Content-Length, because it waits for that
# body. Fails when hey fails, reports a connection error, or counts any status that is not 2xx.
run_hey_head() {
  local connections="$1" duration="$2" url="$3" header
  local arguments=(-z "${duration}s" -c "$connections" -m HEAD)
  for header in "${@:4}"; do
    arguments+=(-H "$header")
  done
  hey "${arguments[@]}" "$url" >"$work_dir/hey.log" 2>&1 || {
    echo "error: hey against $url failed:" >&2
    cat "$work_dir/hey.log" >&2
    return 1
  }
  # hey lists each status as "[200]	1234 responses" under "Status code distribution:", and connection errors
  # under "Error distribution:".
  if grep -q '^Error distribution:' "$work_dir/hey.log" || ! awk '
      /^Status code distribution:/ { section = 1; next }
      section && $1 ~ /^\[[0-9]+\]$/ { if ($1 ~ /^\[2/) ok++; else failed++ }
      END { exit !(ok > 0 && failed == 0) }' "$work_dir/hey.log"; then
    echo "error: some HEAD requests to $url under load failed or did not return 2xx:" >&2
    cat "$work_dir/hey.log" >&2
    return 1
  fi
  rps=$(awk '$1 == "Requests/sec:" { printf "%.0f", $2 }' "$work_dir/hey.log")
  p99_ms=$(awk '$1 == "99%" && $2 == "in" { printf "%.2f", $3 * 1000 }' "$work_dir/hey.log")
  if [ -z "$rps" ] || [ -z "$p99_ms" ]; then
    echo "error: could not read Requests/sec and the 99% latency from hey's output:" >&2
    cat "$work_dir/hey.log" >&2
    return 1
  fi
  echo "  HEAD $url: $rps requests/s, p99 $p99_ms ms"
}
