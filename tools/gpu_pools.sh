#!/usr/bin/env bash
# Several pools of a scaling series (img2sdf_run, one pool size each) on one GPU. The first pool prepares the
# shared data; the others start once its data stage is over, all at once, under CUDA MPS where the driver offers
# it, since a small pool leaves most of the GPU idle. Each pool's log is OUT/pool-N.log, the series' OUT/series.log.
#
#   tools/gpu_pools.sh OUT "COMMON KEY=VALUE ..." N[:KEY=VALUE,...] ...
#   tools/gpu_pools.sh runs "source=procedural encoder=efficientnet_lite0 workers=16 n_train=5100 holdout=0.02" \
#       1000 20:deepsdf=pilot,deepsdf_steps=20000,deepsdf_clamp_grad=through
#
# PRESET (default large) is the pipeline preset; SEEDS="0 1 2" runs each pool as a seed series (img2sdf_run --seeds,
# the table in OUT/pool-N/series); MPS=0 runs without MPS. Where the preset keeps its data in the run's folder (the
# cpu preset), the other pools link the first pool's OUT/pool-N/data instead of preparing their own.
set -u
if (( $# < 3 )); then sed -n '2,10p' "$0" >&2; exit 2; fi
out=$1; common=$2; shift 2
mkdir -p "$out"
out=$(cd "$out" && pwd)
log=$out/series.log
t0=$(date +%s)
say() { echo "$(( $(date +%s) - t0 )) s: $*" | tee -a "$log"; }

if [[ ${MPS:-1} = 1 ]] && command -v nvidia-cuda-mps-control >/dev/null; then
  export CUDA_MPS_PIPE_DIRECTORY=$out/.mps CUDA_MPS_LOG_DIRECTORY=$out/.mps-log
  mkdir -p "$CUDA_MPS_PIPE_DIRECTORY" "$CUDA_MPS_LOG_DIRECTORY"
  if nvidia-cuda-mps-control -d; then
    trap 'echo quit | nvidia-cuda-mps-control' EXIT
    say "MPS on"
  else
    unset CUDA_MPS_PIPE_DIRECTORY CUDA_MPS_LOG_DIRECTORY
  fi
fi

pool() {       # N[:KEY=VALUE,...]
  local n=${1%%:*} extra=
  [[ $1 == *:* ]] && extra=${1#*:}
  say "pool $n starts: --set $common n_fit=$n ${extra//,/ }"
  # shellcheck disable=SC2086
  python3 -c 'import sys; from img2sdf.cli import run_cli; run_cli(sys.argv[1:])' --preset "${PRESET:-large}" \
    --out "$out/pool-$n" ${SEEDS:+--seeds $SEEDS} --set $common n_fit=$n ${extra//,/ } > "$out/pool-$n.log" 2>&1
  say "pool $n exit $?"
}

pool "$1" &
first=$!
n1=${1%%:*}
shift
until grep -qs '"deepsdf"' "$out/pool-$n1/stages.json" "$out/pool-$n1"/seed-*/stages.json; do
  if ! kill -0 $first 2>/dev/null; then say "pool $n1 ended before its data were ready"; wait; exit 1; fi
  sleep 3
done
say "data ready"
for p in "$@"; do
  if [[ -d $out/pool-$n1/data ]]; then mkdir -p "$out/pool-${p%%:*}" && ln -sfn "$out/pool-$n1/data" "$out/pool-${p%%:*}/data"; fi
  pool "$p" &
done
wait
say "series done"
