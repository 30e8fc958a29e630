#!/usr/bin/env bash
# Measures one garbage collection run on each storage backend: the embedded default (filesystem blobs and SQLite in
# one temporary folder) and PostgreSQL with s3rver.
#
# For each backend, `Dtr.Benchmarks gc` seeds a registry through the real stores: 10,000 manifests in 100
# repositories over 100,000 small blobs by default (see benchmarks/README.md). It then runs one collection that
# removes untagged manifests with a grace period of zero. It prints the run's wall time, the process's peak working
# set and GC heap during the run, and the removed counts next to those that the seed plan expects. PostgreSQL runs
# as a throwaway cluster, and s3rver runs from tests/tools, where scripts/test.sh installs it. Both listen on
# 127.0.0.1 only, keep their data under temporary folders, and stop when the script exits.
#
# Usage: benchmarks/gc/run.sh [--backends LIST] [-- GC-OPTIONS...]
#   --backends LIST   comma-separated subset of sqlite, postgres-s3 (default both)
#   GC-OPTIONS        passed to every `Dtr.Benchmarks gc` command, such as --blobs 20000 (see `gc --help`)
# The benchmark runs with the server GC, as the sample host does (an ASP.NET Core app), unless DOTNET_gcServer is set.
# Needs node and PostgreSQL's server programs (apt-get install postgresql) for postgres-s3. Must run as root,
# because the cluster runs as postgres. Exits non-zero when a run fails or its counts differ from the plan.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../load/lib.sh"

backends="sqlite,postgres-s3"
gc_options=()
while [ $# -gt 0 ]; do
  case "$1" in
    --backends) backends="$2"; shift 2 ;;
    --) shift; gc_options=("$@"); break ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown option '$1'. Run with --help for the options." >&2; exit 1 ;;
  esac
done

selected() {
  [[ ",$backends," == *",$1,"* ]]
}

export DOTNET_gcServer="${DOTNET_gcServer:-1}"
project="$repo_root/benchmarks/Dtr.Benchmarks/Dtr.Benchmarks.csproj"
echo "Building benchmarks/Dtr.Benchmarks (Release)..."
dotnet build "$project" -c Release -nologo -v quiet >"$work_dir/build.log" 2>&1 || {
  echo "error: building benchmarks/Dtr.Benchmarks failed. Last lines of the build output:" >&2
  tail -n 20 "$work_dir/build.log" >&2
  exit 1
}
benchmark_dll="$(dotnet msbuild "$project" -nologo -getProperty:TargetPath -p:Configuration=Release)"

status=0
# Runs the gc command with ARGS plus the pass-through options, printing the exact command line first. Returns the
# command's exit code and records a failure in status.
run_gc() {
  local arguments=(gc "$@" "${gc_options[@]}") code=0
  echo
  echo "\$ DOTNET_gcServer=$DOTNET_gcServer dotnet $(printf '%q ' "$benchmark_dll" "${arguments[@]}")"
  dotnet "$benchmark_dll" "${arguments[@]}" || code=$?
  [ "$code" -eq 0 ] || status=$code
  return "$code"
}

# Each backend is seeded by one process and collected by another, so the measured process did not seed.
if selected sqlite; then
  mkdir -p "$work_dir/sqlite"
  if run_gc --backend sqlite --data-dir "$work_dir/sqlite" --phase seed; then
    run_gc --backend sqlite --data-dir "$work_dir/sqlite" --phase run || true
  fi
  rm -rf "$work_dir/sqlite"
fi

if selected postgres-s3; then
  command -v node >/dev/null || { echo "error: node is missing. Install it with apt-get install nodejs." >&2; exit 1; }
  s3rver_js="$repo_root/tests/tools/node_modules/s3rver/bin/s3rver.js"
  [ -f "$s3rver_js" ] || { echo "error: $s3rver_js is missing. Run scripts/test.sh once, which installs it." >&2; exit 1; }
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
  runuser -u postgres -- "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -qc "CREATE DATABASE bench_gc" >/dev/null

  # s3rver writes every object to files under its own data folder. ListObjectsV2 paging needs the legacy OpenSSL
  # provider, because s3rver's continuation tokens use DES.
  s3_port="$(find_free_port)"
  mkdir -p "$work_dir/s3rver"
  NODE_OPTIONS=--openssl-legacy-provider node "$s3rver_js" -d "$work_dir/s3rver" -a 127.0.0.1 -p "$s3_port" \
    --configure-bucket registry --no-vhost-buckets --silent >"$work_dir/s3rver.log" 2>&1 &
  started_pids+=($!)
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$s3_port") 2>/dev/null && break
    sleep 0.1
  done

  # Seeding commits about 100,000 write transactions one at a time, because every write transaction of the store
  # takes one advisory lock. The seed phase skips the wait for each WAL flush, and the run phase has the default.
  psql_command() {
    runuser -u postgres -- "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -qAtc "$1" >/dev/null
  }
  connection="Host=127.0.0.1;Port=$pg_port;Database=bench_gc;Username=postgres"
  psql_command "ALTER SYSTEM SET synchronous_commit = off"
  psql_command "SELECT pg_reload_conf()"
  if run_gc --backend postgres-s3 --postgres "$connection" --s3-url "http://127.0.0.1:$s3_port" --phase seed; then
    psql_command "ALTER SYSTEM RESET synchronous_commit"
    psql_command "SELECT pg_reload_conf()"
    run_gc --backend postgres-s3 --postgres "$connection" --s3-url "http://127.0.0.1:$s3_port" --phase run || true
  fi
fi

echo
echo "Machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), .NET SDK $(dotnet --version), load average $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "${pg_bin:-}" ]; then
  echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}'), s3rver $(node -p "require('$repo_root/tests/tools/node_modules/s3rver/package.json').version"), Node $(node --version)"
fi
exit "$status"
