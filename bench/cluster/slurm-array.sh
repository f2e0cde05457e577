#!/usr/bin/env bash
# Slurm job array: each array task runs one shard of a mixlab suite into a shared folder; a final
# `mixlab report` (run after the array, e.g. with --dependency=afterok:<array job id>) merges the shards.
#
#   sbatch --array=1-8 bench/cluster/slurm-array.sh cpu /shared/mixlab-runs/cpu
#   sbatch --dependency=afterok:<jobid> --wrap "mixlab report /shared/mixlab-runs/cpu"
#
# Every cell is an independent deterministic job: a re-queued task skips finished cells and resumes a
# killed one from its checkpoint, so `--requeue` is safe.
#SBATCH --job-name=mixlab-bench
#SBATCH --cpus-per-task=2
#SBATCH --mem=8G
#SBATCH --time=04:00:00
#SBATCH --requeue
#SBATCH --output=mixlab-%A_%a.log
set -euo pipefail
SUITE=${1:?suite name or path}
OUT=${2:?shared output folder}
N=${SLURM_ARRAY_TASK_COUNT:?run as an array job}
K=${SLURM_ARRAY_TASK_ID:?run as an array job}
# Array ids must start at 1 (--array=1-N): shards are 1-based.
exec mixlab bench --suite "$SUITE" --out "$OUT" --shard "$K/$N" --quiet ${MIXLAB_DATA:+--data-dir "$MIXLAB_DATA"}
