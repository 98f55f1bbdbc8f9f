#!/usr/bin/env bash
# The study's Phase 11 recipe to its end (the paper preset: 1,500 epochs of four shapes a step in fp32, constant
# rates) on the first 1,000 procedural shapes, one GPU, across as many machine holds as it takes: each hold prepares
# the same shapes again (the procedural source is deterministic, and the checkpoint's record of its samples says
# whether they are the same), resumes from the checkpoint it is given and trains for MINUTES (default 20) with each
# step replayed as a CUDA graph (CUDA_GRAPH=1, the same arithmetic), then leaves in OUT/results the checkpoint in
# parts of at most 15 MiB, the log and, once the run is over, its report: copy them off before the machine goes.
#
#   tools/gpu_deepsdf_paper.sh OUT [PARTS]     # PARTS: a folder of a previous hold's results (checkpoint.part-*)
#
# N (1000), MINUTES (20), CUDA_GRAPH (1) and SET (more KEY=VALUE settings of DeepSDF) change the run.
set -u
if (( $# < 1 )); then sed -n '2,12p' "$0" >&2; exit 2; fi
out=$(mkdir -p "$1" && cd "$1" && pwd)
parts=${2:-}
log=$out/run.log
t0=$(date +%s)
say() { echo "$(( $(date +%s) - t0 )) s: $*" | tee -a "$log"; }
mkdir -p "$out/deepsdf" "$out/results"
if [[ -n $parts ]]; then
  if ! ls "$parts"/checkpoint.part-* >/dev/null 2>&1; then echo "$parts: no checkpoint.part-* files" >&2; exit 2; fi
  cat "$parts"/checkpoint.part-* > "$out/deepsdf/checkpoint.safetensors.part"
  mv "$out/deepsdf/checkpoint.safetensors.part" "$out/deepsdf/checkpoint.safetensors"
  cp "$parts"/log.json "$parts"/config.json "$out/deepsdf/" 2>/dev/null
  say "resuming from $parts"
fi
say "preparing ${N:-1000} procedural shapes"
python3 -c 'import sys; from img2sdf.procedural import prepare_cli as f; f(sys.argv[1:])' --source procedural \
  --split train --limit "${N:-1000}" --out "$out/data" --preset paper --workers "${WORKERS:-16}" > "$out/prepare.log" 2>&1 \
  || { say "prepare failed"; exit 1; }
say "DeepSDF, paper preset, $((${MINUTES:-20})) minutes at most this hold"
graph=; [[ ${CUDA_GRAPH:-1} = 1 ]] && graph=cuda_graph=true
# shellcheck disable=SC2086
python3 -c 'import sys; from img2sdf.deepsdf import train_deepsdf_cli as f; f(sys.argv[1:])' --data "$out/data" \
  --out "$out/deepsdf" --preset paper --set max_minutes="${MINUTES:-20}" checkpoint_every=25 $graph ${SET:-} \
  > "$out/train.log" 2>&1
say "DeepSDF exit $?"
rm -f "$out"/results/checkpoint.part-*
split -b 15M -d "$out/deepsdf/checkpoint.safetensors" "$out/results/checkpoint.part-"
cp "$out"/deepsdf/{log.json,config.json,report.json,reconstructions.png} "$out"/*.log "$out/results/" 2>/dev/null
say "results in $out/results: $(ls "$out/results" | tr '\n' ' ')"
