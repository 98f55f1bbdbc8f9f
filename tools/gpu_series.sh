#!/usr/bin/env bash
# The scaling series (img2sdf_series, 11_cli) on one GPU, a (pool, seed) cell at a time, for as long as the machine is
# held. The committed cells of nbs/results are copied into OUT/cells first, so that they are skipped; each finished
# cell's record and per-shape CSV are packed into OUT/results.tgz at once, with the logs, the stage benchmark and a
# second-by-second log of the GPU's utilisation (OUT/gpu_util.csv): copy that archive off the machine at every poll,
# since a machine given back takes everything else with it.
#
#   tools/gpu_series.sh OUT "POOLS" "SEEDS"          # tools/gpu_series.sh /tmp/series "1000 5000" "0 1 2"
#
# Every pool of the series holds out the same shapes: the split is drawn from the first SPLIT_POOL (5100) prepared
# shapes, 2% of them (HOLDOUT), and the pools past them prepare N_TRAIN shapes (default: the largest pool plus the
# held-out ones). PRESET (large), ENCODER (efficientnet_lite0), WORKERS (16) and SET (more KEY=VALUE settings)
# change the run; the series is named scaling_gpu_series. After the first cell it runs, BENCH_EVAL=1 (the default)
# times its evaluation scored on the CPU's 16 processes against scored on the GPU, on 16 held-out shapes
# (img2sdf_bench_evaluate: seconds a shape, and each metric's mean change with its interval).
set -u
if (( $# < 3 )); then sed -n '2,14p' "$0" >&2; exit 2; fi
out=$(mkdir -p "$1" && cd "$1" && pwd)
pools=$2 seeds=$3
repo=$(cd "$(dirname "$0")/.." && pwd)
name=scaling_gpu_series
log=$out/run.log
t0=$(date +%s)
say() { echo "$(( $(date +%s) - t0 )) s: $*" | tee -a "$log"; }
largest=$(tr ' ' '\n' <<< "$pools" | sort -n | tail -1)
split_pool=${SPLIT_POOL:-5100}
holdout=${HOLDOUT:-0.02}
n_train=${N_TRAIN:-$(python3 -c "import math; print(max($split_pool, $largest + math.ceil($split_pool * $holdout)))")}
mkdir -p "$out/cells" "$out/results"
cp "$repo"/nbs/results/${name}_pool*_seed* "$out/cells/" 2>/dev/null
gather() {
  cp "$out"/cells/${name}_pool* "$out"/*.log "$out"/gpu_util.csv "$out/results/" 2>/dev/null
  for run in "$out"/pool-*/seed-*; do
    stem=$(basename "$(dirname "$run")")_$(basename "$run")
    [[ -f $run/stages.json ]] && cp "$run/stages.json" "$out/results/stages_$stem.json"
  done
  tar -C "$out/results" -czf "$out/results.tgz.part" . && mv "$out/results.tgz.part" "$out/results.tgz"
}
nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv,noheader -l 1 > "$out/gpu_util.csv" &
util=$!
trap 'kill $util 2>/dev/null' EXIT
say "pools $pools, seeds $seeds: n_train=$n_train split_pool=$split_pool holdout=$holdout"
for pool in $pools; do
  for seed in $seeds; do
    say "pool $pool seed $seed starts"
    # shellcheck disable=SC2086
    python3 -c 'import sys; from img2sdf.cli import series_cli; series_cli(sys.argv[1:])' --preset "${PRESET:-large}" \
      --pools "$pool" --seeds "$seed" --cells "$out/cells" --name "$name" --out "$out" \
      --set source=procedural encoder="${ENCODER:-efficientnet_lite0}" workers="${WORKERS:-16}" n_train="$n_train" \
      split_pool="$split_pool" holdout="$holdout" ${SET:-} > "$out/pool$pool-seed$seed.log" 2>&1
    say "pool $pool seed $seed exit $?"
    run=$out/pool-$pool/seed-$seed
    if [[ ${BENCH_EVAL:-1} = 1 && -f $run/eval/per_shape.csv && ! -f $out/bench_evaluate.log ]]; then
      say "evaluation benchmark starts"
      train=$(python3 -c "import sys; from img2sdf.cli import PipelineConfig, _data_root; from pathlib import Path
print(_data_root(PipelineConfig.load(sys.argv[1] + '/pipeline.json'), 'train', Path(sys.argv[2])))" "$run" "$out")
      python3 -c 'import sys; from img2sdf.ood_eval import bench_evaluate_cli as b; b(sys.argv[1:])' \
        --deepsdf "$run/deepsdf" --dit "$run/dit" --train_data "$train" --split "$run/split.json" --n 16 \
        --settings "large scorer=cpu workers=${WORKERS:-16}" 'large scorer=device' > "$out/bench_evaluate.log" 2>&1
      say "evaluation benchmark exit $?"
    fi
    finished=$(grep -l '"done"' "$out"/pool-*/seed-*/stages.json 2>/dev/null | xargs -r -n1 dirname)
    # shellcheck disable=SC2086
    rm -f "$out/results/bench_pipeline_gpu.json"          # made again from every finished cell
    [[ -n $finished ]] && python3 -c 'import sys; from img2sdf.cli import bench_pipeline_cli as b; b(sys.argv[1:])' \
      $finished --gpu_log "$out/gpu_util.csv" --json "$out/results/bench_pipeline_gpu.json" \
      > "$out/bench_pipeline.log" 2>&1
    gather
  done
done
say "done"
