#!/usr/bin/env bash
# Helpers shared by the load scripts in this folder. They start registries on loopback ports with temporary data
# folders, build test images and time skopeo transfers, and when the calling script exits they stop every process
# and delete every folder that they started.
# Source this file after `set -euo pipefail`.

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work_dir="$(mktemp -d -t dtr-load-XXXXXX)"
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
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Prints a TCP port on 127.0.0.1 that nothing listens on.
find_free_port() {
  local port
  for _ in $(seq 1 100); do
    port=$((20000 + RANDOM % 40000))
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
# Every variant binds 127.0.0.1 only, keeps its data in a new folder under $work_dir, and runs with exec, so
# REGISTRY_PID is the server process itself (the one whose memory the scripts read).
start_registry() {
  local kind="$1" argument="${2:-}"
  local extra_arguments=("${@:3}")
  local port data log
  port="$(find_free_port)"
  data="$(mktemp -d "$work_dir/data-$kind-XXXXXX")"
  log="$data.log"
  REGISTRY_ADDRESS="127.0.0.1:$port"

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
# tagged 1. Sets IMAGE_BYTES to the total size of its manifest, config and layer.
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
}

# Writes an OCI image layout to LAYOUT with one layer that contains SIZE_MIB MiB of incompressible random bytes,
# tagged 1. Sets IMAGE_BYTES like write_single_layer_layout.
write_random_image_layout() {
  local layout="$1" size_mib="$2"
  mkdir -p "$work_dir/rootfs/data"
  write_random_file "$work_dir/rootfs/data/random.bin" "$size_mib"
  write_single_layer_layout "$layout" "$work_dir/rootfs"
  rm -rf "$work_dir/rootfs"
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

# Deletes skopeo's blob-info cache. Otherwise skopeo mounts a layer that it remembers from an earlier repository
# instead of uploading it, and the push time measures no upload.
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

# Pushes the image tagged 1 in the OCI layout LAYOUT to the registry at REGISTRY_ADDRESS and pulls it back, RUNS
# times, and sets BEST_PUSH and BEST_PULL to the best MB/s of each direction. IMAGE_BYTES is the image size, and
# NAME labels the output. Each run uses a new repository bench/skopeo-<run>, so a blob already stored in an
# earlier one is not skipped. Fails when a push or pull fails, after printing skopeo's output.
measure_skopeo_transfers() {
  local name="$1" layout="$2" runs="$3"
  local run repository start end push pull
  BEST_PUSH=0
  BEST_PULL=0
  for run in $(seq 1 "$runs"); do
    repository="bench/skopeo-$run"
    clear_skopeo_cache
    start=$(now)
    if ! skopeo --insecure-policy copy --quiet --dest-tls-verify=false         "oci:$layout:1" "docker://$REGISTRY_ADDRESS/$repository:1" >"$work_dir/skopeo.log" 2>&1; then
      echo "error: skopeo push to $name failed:" >&2
      cat "$work_dir/skopeo.log" >&2
      return 1
    fi
    end=$(now)
    push=$(megabytes_per_second "$IMAGE_BYTES" "$start" "$end")

    rm -rf "$work_dir/pulled"
    start=$(now)
    if ! skopeo --insecure-policy copy --quiet --src-tls-verify=false         "docker://$REGISTRY_ADDRESS/$repository:1" "oci:$work_dir/pulled:1" >"$work_dir/skopeo.log" 2>&1; then
      echo "error: skopeo pull from $name failed:" >&2
      cat "$work_dir/skopeo.log" >&2
      return 1
    fi
    end=$(now)
    pull=$(megabytes_per_second "$IMAGE_BYTES" "$start" "$end")
    echo "  $name run $run: push $push MB/s, pull $pull MB/s"

    BEST_PUSH=$(max "$BEST_PUSH" "$push")
    BEST_PULL=$(max "$BEST_PULL" "$pull")
  done
  rm -rf "$work_dir/pulled"
}
