#!/bin/sh
# Runs fuzz targets one after another for a fixed time each and prints one summary line per target.
#   fuzz/run.sh SECONDS TARGET...        (build first: cargo +nightly fuzz build -O -a -s none [--features cli])
# Single-worker fork mode keeps fuzzing after a crash, OOM or timeout and saves each input under
# fuzz/artifacts/<target>/; the corpus grows under fuzz/corpus/<target>/ (seeded by fuzz/make_seeds.py).
# Set FUZZ_BIN to the folder of the built targets when it is not the default one.
set -eu
cd "$(dirname "$0")"
secs=$1
shift
bin=${FUZZ_BIN:-target/x86_64-unknown-linux-gnu/release}
logs=${FUZZ_LOGS:-target/logs}
mkdir -p "$logs"
for t in "$@"; do
    case $t in cifar) max_len=8192 ;; *) max_len=4096 ;; esac
    mkdir -p "corpus/$t" "artifacts/$t"
    start=$(date +%s)
    "$bin/$t" "corpus/$t" -max_total_time="$secs" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 \
        -max_len="$max_len" -fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 \
        -artifact_prefix="artifacts/$t/" >"$logs/$t.log" 2>&1 || true
    end=$(date +%s)
    execs=$(grep -o '^#[0-9]*' "$logs/$t.log" | tail -1 | tr -d '#')
    found=$(find "artifacts/$t" -type f | wc -l)
    echo "$(date -u +%Y-%m-%d) $t minutes=$(( (end - start) / 60 )).$(( (end - start) % 60 * 10 / 60 )) execs=${execs:-?} artifacts=$found"
done
