#!/usr/bin/env bash
# Runs every test of the solution and prints "N passed, N failed[, N skipped]" as its last line.
#
# Installs with apt-get, when they are missing, the tools that the end-to-end tests call (skopeo, podman, umoci,
# busybox-static, jq, openssl) and Debian's Chromium, which the web interface tests drive. It installs the
# PostgreSQL server, from which the PostgreSQL store's tests start a throwaway cluster, the same way.
# That needs root, so without root the tools must already be installed.
# Exits non-zero when a test fails, when the run fails, or when no test ran.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export DEBIAN_FRONTEND=noninteractive

missing_packages=()
command -v skopeo >/dev/null 2>&1 || missing_packages+=(skopeo)
command -v umoci >/dev/null 2>&1 || missing_packages+=(umoci)
command -v podman >/dev/null 2>&1 || missing_packages+=(podman)
command -v jq >/dev/null 2>&1 || missing_packages+=(jq)
# The scanning tests sign vulnerability database archives with the openssl command-line tool.
command -v openssl >/dev/null 2>&1 || missing_packages+=(openssl)
# The web interface tests drive Debian's Chromium at this path through Playwright, which downloads no browser here.
# fonts-liberation, which Chromium only recommends, gives its pages the same fonts on every machine.
[ -x /usr/bin/chromium ] || missing_packages+=(chromium fonts-liberation)
# Debian keeps the server programs off PATH, under /usr/lib/postgresql/<major>/bin.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing_packages+=(postgresql)
# The test images need the statically linked busybox at /bin/busybox, and Debian's plain busybox package is dynamic.
if command -v dpkg-query >/dev/null 2>&1; then
  dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || missing_packages+=(busybox-static)
elif [ ! -x /bin/busybox ]; then
  missing_packages+=(busybox-static)
fi

if [ "${#missing_packages[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: packages are missing: ${missing_packages[*]}. Run this script as root, or install them with apt-get." >&2
    exit 1
  fi
  echo "Installing ${missing_packages[*]} with apt-get..."
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing_packages[@]}" </dev/null >/dev/null
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "error: dotnet was not found on PATH. Install the .NET 10 SDK (global.json sets the version)." >&2
  exit 1
fi

# The S3 storage tests run s3rver 3.7.1 and the Azure Blob storage tests run Azurite 3.37.0, both on Node. npm
# installs them into tests/tools, which git ignores.
if [ ! -f tests/tools/node_modules/s3rver/bin/s3rver.js ] || [ ! -f tests/tools/node_modules/azurite/dist/src/blob/main.js ]; then
  command -v npm >/dev/null 2>&1 || { echo "error: npm was not found on PATH. The S3 and Azure Blob storage tests need Node.js and npm." >&2; exit 1; }
  npm install --prefix tests/tools --no-audit --no-fund --silent s3rver@3.7.1 azurite@3.37.0 </dev/null
fi

# The filesystem blob store's contract suite runs a second time with its root on another mount
# (SecondMountBlobStoreTests). As root, mount a fresh tmpfs for it and remove it on exit. Otherwise the tests use
# /dev/shm. The kernels of these machines have no NFS client, so NFS itself cannot be mounted here.
if [ -z "${DTR_SECOND_MOUNT_DIR:-}" ] && [ "$(id -u)" -eq 0 ]; then
  second_mount="$(mktemp -d /tmp/dtr-second-mount-XXXXXX)"
  if mount -t tmpfs -o size=256m,mode=0700 tmpfs "$second_mount" 2>/dev/null; then
    trap 'umount "$second_mount" && rmdir "$second_mount"' EXIT
    export DTR_SECOND_MOUNT_DIR="$second_mount"
  else
    rmdir "$second_mount"
    echo "Mounting a tmpfs at $second_mount failed; the second-mount tests use /dev/shm."
  fi
fi

results_dir="$repo_root/TestResults/test-sh"
rm -rf "$results_dir"
mkdir -p "$results_dir"

# A hung test is killed after 20 minutes, so one stuck client cannot use up a CI run's time.
test_status=0
dotnet test Dtr.slnx -c Release \
  --results-directory "$results_dir" \
  --logger "trx" \
  --logger "console;verbosity=normal" \
  --blame-hang-timeout 20m --blame-hang-dump-type none \
  </dev/null || test_status=$?

# Sums one attribute of the <Counters> element over every TRX file. TRX counts skipped tests as notExecuted.
sum_counter() {
  local name="$1" total=0 value file
  while IFS= read -r -d '' file; do
    value="$(grep -o "<Counters [^>]*" "$file" | grep -o " $name=\"[0-9]*\"" | grep -o '[0-9]\+' || true)"
    total=$((total + ${value:-0}))
  done < <(find "$results_dir" -name '*.trx' -print0)
  echo "$total"
}

total=$(sum_counter total)
passed=$(sum_counter passed)
failed=$(( $(sum_counter failed) + $(sum_counter error) + $(sum_counter timeout) + $(sum_counter aborted) ))
skipped=$(sum_counter notExecuted)

summary="$passed passed, $failed failed"
if [ "$skipped" -gt 0 ]; then
  summary="$summary, $skipped skipped"
fi

if [ "$test_status" -ne 0 ]; then
  echo "dotnet test exited with code $test_status." >&2
fi
if [ "$total" -eq 0 ]; then
  echo "error: no test ran (no test results in $results_dir)." >&2
fi
echo "$summary"

if [ "$test_status" -ne 0 ] || [ "$failed" -gt 0 ] || [ "$total" -eq 0 ]; then
  exit 1
fi
