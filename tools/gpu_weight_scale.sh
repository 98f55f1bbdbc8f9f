#!/usr/bin/env bash
# When does weight-space diffusion turn on? (10a_weight_scale) on one GPU: the Phase 1 benchmark, the data (the
# first LIMIT procedural training shapes, the held-out categories, pybullet's named objects), Phase 1 for every cell,
# then the cells, all at once (under CUDA MPS where the driver offers it), and the series' table. A fused Phase 1
# step that fails or hangs in a 150 s smoke test leaves Phase 1 to PyTorch's kernels (the gpu_torch preset).
# Each step's log is OUT/<step>.log, the schedule's OUT/run.log; the small result files are packed into
# OUT/results.tgz after every step: copy that archive off the machine at every poll, since a machine given back
# takes everything else with it.
#
#   tools/gpu_weight_scale.sh OUT [CELL ...]        # cells N:INIT[:TOKENS][:SEED] (default: the ones below)
#
# LIMIT (default 2200: the pools up to 1,000 and the 40 held-out instances), N_OOD (40), PRESET (gpu: the weight
# series' preset), DATA (paper), VIEWS (large: 8 views of 224 px), ENCODER (efficientnet_lite0), WORKERS (16),
# SCORERS (3: mesh-scoring processes a cell), SCORER (cpu, as the first cells: where the metrics are measured), BENCH
# (1: img2sdf_bench_per_shape beside the data stage), NAMED (1: score pybullet's named objects too), MPS (1), SET
# (more KEY=VALUE settings of the series) and FAST_ONLY (more cells, run only where the fused step runs) change the run.
set -u
if (( $# < 1 )); then sed -n '2,16p' "$0" >&2; exit 2; fi
out=$(mkdir -p "$1" && cd "$1" && pwd)
shift
cells=("$@")
(( ${#cells[@]} )) || cells=(199:anchor 199:random 1000:anchor 1000:random 1000:anchor:layer)
data=$out/data
log=$out/run.log
workers=${WORKERS:-16}
t0=$(date +%s)
say() { echo "$(( $(date +%s) - t0 )) s: $*" | tee -a "$log"; }
py() { local step=$1 mod=$2 fn=$3; shift 3
  say "$step starts"
  python3 -c "import sys; from img2sdf.$mod import $fn; $fn(sys.argv[1:])" "$@" > "$out/$step.log" 2>&1
  local rc=$?
  say "$step exit $rc"
  gather
  return $rc
}
gather() {
  mkdir -p "$out/results"
  (cd "$out" && find . -path ./data -prune -o -path ./results -prune -o -type f \
    \( -name '*.json' -o -name '*.png' -o -name '*.log' -o -name '*.csv' -o -name '*.md' \) -size -4M -print |
    while read -r f; do mkdir -p "results/$(dirname "$f")" && cp "$f" "results/$f"; done)
  tar -C "$out/results" -czf "$out/results.tgz.part" . && mv "$out/results.tgz.part" "$out/results.tgz"
}
mps() {       # CUDA MPS for the cells, which share the GPU; the benchmark and Phase 1 run without it
  [[ ${MPS:-1} = 1 ]] && command -v nvidia-cuda-mps-control >/dev/null || return 0
  export CUDA_MPS_PIPE_DIRECTORY=$out/.mps CUDA_MPS_LOG_DIRECTORY=$out/.mps-log
  mkdir -p "$CUDA_MPS_PIPE_DIRECTORY" "$CUDA_MPS_LOG_DIRECTORY"
  if nvidia-cuda-mps-control -d; then mps_on=1; say "MPS on"
  else unset CUDA_MPS_PIPE_DIRECTORY CUDA_MPS_LOG_DIRECTORY; fi
}

prep() { local name=$1; shift
  py "prepare_$name" procedural prepare_cli "$@" --out "$data/$name" --preset "${DATA:-paper}" --workers "$workers"
}
render() { py "render_$1" views render_cli --out "$data/$1" --preset "${VIEWS:-large}" \
  --set encoder="${ENCODER:-efficientnet_lite0}" --workers 12; }

phase1_bench() {   # a fused step that does not end in 150 s leaves Phase 1 to PyTorch's kernels (OUT/fused_failed)
  # where it hangs, its log ends with every thread's stack at 120 s (compiling, launching or waiting on the GPU),
  # then the kernel cache and the GPU as they were
  local variants=(torch)
  say "fused smoke test starts"
  if timeout 150 python3 -c "import faulthandler, sys; faulthandler.dump_traceback_later(120)
from img2sdf.per_shape import bench_per_shape as b; b(16, steps=4, variants=('fused',), repeats=1)" \
      > "$out/fused_smoke.log" 2>&1; then say "fused step runs"
    variants+=(fused fused:unroll=1 fused:block=64,unroll=1)
  else touch "$out/fused_failed"; say "fused step failed or hung: Phase 1 with gpu_torch"
    { ls -laR "${TRITON_CACHE_DIR:-$HOME/.triton/cache}" | tail -40; nvidia-smi; } >> "$out/fused_smoke.log" 2>&1; fi
  timeout 600 python3 -c 'import sys; from img2sdf.per_shape import bench_per_shape_cli as b; b(sys.argv[1:])' \
    --n_shapes 1000 --variants "${variants[@]}" --repeats 2 --check 64 --json "$out/bench_per_shape_gpu.json" \
    > "$out/bench.log" 2>&1
  say "benchmark exit $?"
}
rm -f "$out/fused_failed"
util=
if command -v nvidia-smi >/dev/null; then          # the GPU busy or idle, every second, for the whole run
  nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv,noheader -l 1 > "$out/gpu_util.csv" &
  util=$!
  disown "$util"                                   # so that the waits below do not wait for it
fi
mps_on=
cleanup() {   # on any exit: the GPU logger and MPS's daemon go
  [[ $util ]] && kill "$util" 2>/dev/null
  [[ $mps_on ]] && echo quit | nvidia-cuda-mps-control
}
trap cleanup EXIT
[[ ${BENCH:-1} = 1 ]] && phase1_bench &      # beside the data stage, which is mostly the CPU's
prep train --source procedural --split train --limit "${LIMIT:-2200}"
sets=(ood=$data/ood)
{ prep ood --source procedural --split ood --limit "${N_OOD:-40}" && render ood; } &
if [[ ${NAMED:-1} = 1 ]]; then
  { prep ood-pybullet --source pybullet --split ood && render ood-pybullet; } &
  sets+=(ood-pybullet=$data/ood-pybullet)
fi
render train &
wait   # the benchmark, and the data of every set
if [[ -e $out/fused_failed ]]; then SET="per_shape=gpu_torch ${SET:-}"
else cells+=(${FAST_ONLY:-}); fi       # cells that fit the hold only with the fused Phase 1 step
scale=(--data "$data/train" --ood "${sets[@]}" --out "$out/series" --preset "${PRESET:-gpu}")
py fit weight_scale weight_scale_cli "${scale[@]}" --stage fit --cells "${cells[@]}" ${SET:+--set $SET} || exit 1
python3 - "$out" > "$out/phase1_check.log" 2>&1 <<'EOP'   # the final L1 of the first 1,000 shapes against the reference
import sys, json
from pathlib import Path
from img2sdf.per_shape import load_per_shape, loss_stats
out = Path(sys.argv[1])
ps = load_per_shape(out/'series'/'phase1'/'main')
first = [l for n, l in zip(ps['names'], ps['losses'].tolist()) if int(n.split()[0][4:]) < 1000]
stats = json.loads((out/'series'/'phase1'/'stats.json').read_text())
r = dict(first_1000=loss_stats(first), reference=dict(median=0.0021835507, n=1000, what='the same 1,000 shapes, the '
         'torch kernel in bf16 (results/failure_modes_procedural_gpu.json)'), stats=stats)
r['median_ratio'] = r['first_1000']['median'] / r['reference']['median']
(out/'phase1_check.json').write_text(json.dumps(r, indent=1))
print(json.dumps(r['first_1000']), r['median_ratio'])
EOP
gather
mps
for c in "${cells[@]}"; do
  py "cell_${c//:/_}" weight_scale weight_scale_cli "${scale[@]}" --stage cells --cells "$c" \
    --set workers="${SCORERS:-3}" scorer="${SCORER:-cpu}" ${SET:-} &
done
wait
py table weight_scale weight_scale_cli --table "$out/series" --json "$out/weight_scale_gpu.json" \
  --figure "$out/weight_scale_gpu.png" --what "tools/gpu_weight_scale.sh OUT ${cells[*]}"
say "done"
