#!/usr/bin/env bash
# The GPU work that issues 3 and 5 still need, cut into steps that each end well inside a 10-minute device command,
# so a session with a borrowed GPU (30 minutes of device time in all, start-up included) spends it measuring.
# In order of what the issues need most (the machine stays warm only 30 s between calls: issue them back to back):
#
#   converge  OUT   first call: an invented sitter's clip (training/footage/demo_clip.py, $DEMO_SECONDS s)
#                   -> `likeness prepare` a 128 px 10 fps dataset (1,200 frames) -> `likeness train`
#                   for $TRAIN_SECONDS, stopped with SIGINT (which writes a snapshot); the next call resumes
#                   the same run for as long again, and so on: two calls make the issue's >= 15 minutes.
#                   Each call copies the first, middle and newest fakes grids, the reals, config.json and
#                   log.jsonl into OUT                                                          ~8 min per call
#   train     OUT   train_speed: config F at 256 px, batch 32, 40 kimg                                  ~4-8 min
#   generator OUT   generator_speed at 256 and 1024 px, batches 1, 8, 32, eager; then again with
#                   torch.compile reduce-overhead unless COMPILE=0                                      ~2-5 min
#   evaluate-speed OUT  evaluate_speed: Inception features/s, and 50,000 fakes against 10,000 reals      ~3-5 min
#   evaluate  OUT   FID/KID/precision-recall/memorisation/separability of the converge run's snapshots
#                   ($EVAL_FAKES fakes each, all reals), report.md and report.html                      ~2-3 min
#   render    OUT   render_speed: 1920x1080 offscreen, one 1024 px model, a 4x3 grid of 12 models, a
#                   filmstrip of 8, once with CUDA-OpenGL interop and once with the pbo upload, the grid
#                   once more drawn across models (--cross-batch); cross_model_batch (one synthesis call
#                   for 4 and 12 models against one call each); then bf16_difference (bf16 against
#                   float32 synthesis, in grey levels)                                                  ~4-6 min
#   export    OUT   export_speed: 1080p30, H.264 and ProRes, 300 frames each: FilmWriter alone on synthetic
#                   frames (~15 s), then the whole `likeness export` (export_show) of a 4x3 grid show of 12
#                   random config-F 1024 px models: writing the 12 checkpoints (~1.6 GB, ~30 s), and per
#                   codec loading them (~15 s) and rendering + encoding 300 frames (~10-30 s)           ~2-3 min
#   demo-model OUT  `likeness demo-model --kimg $DEMO_MODEL_KIMG` on the GPU: a sharper bundled model for
#                   `likeness demo`, packed into OUT/demo-model.pt (+ .json); commit it only after the demo's
#                   gate still separates the sitters (docs/demo.md)                                    ~5-8 min
#
# `benchmarks/gpu_session.sh --plan` prints which steps RESULTS.md already records (a line
# `<!-- gpu-step: NAME YYYY-MM-DD -->` under the figures) and which remain, with their minutes, in order.
#
# Run from the repository root with the project importable (PYTHONPATH=. on a machine without an install). The
# converge run lives in .gpu-run/ (git-ignored), so it survives between commands on the same machine. A GPU machine
# without the project's packages needs av and tqdm carried as wheels for its Python (torch, numpy, pillow, scipy and
# pyyaml are usually there; tensorboard is optional).
# Overridable: PYTHON (python3), TRAIN_SECONDS (450), CONVERGE_RES (128), DEMO_SECONDS (120), EVAL_FAKES (2000),
# DEMO_MODEL_KIMG (400), COMPILE (1), DEVICE (auto).
set -euo pipefail

STEPS="converge:8 train:6 generator:4 evaluate-speed:4 evaluate:3 render:4 export:3 demo-model:7"
if [ "${1:-}" = "--plan" ]; then
    results="$(dirname "$0")/RESULTS.md"
    left=0
    for entry in $STEPS; do
        name=${entry%%:*} minutes=${entry##*:}
        if grep -q "<!-- gpu-step: $name " "$results"; then
            echo "recorded  $name"
        else
            echo "to run    $name  (~$minutes min)"
            left=$((left + minutes))
        fi
    done
    echo "remaining: ~$left min of device time"
    exit 0
fi

usage="usage: benchmarks/gpu_session.sh converge|train|generator|evaluate-speed|evaluate|render|export|demo-model OUTDIR (or --plan)"
step=${1:?$usage}
out=${2:?$usage}
py=${PYTHON:-python3}
train_seconds=${TRAIN_SECONDS:-450}
res=${CONVERGE_RES:-128}
demo_seconds=${DEMO_SECONDS:-120}
eval_fakes=${EVAL_FAKES:-2000}
demo_model_kimg=${DEMO_MODEL_KIMG:-400}
compile=${COMPILE:-1}
device=${DEVICE:-auto}
work=.gpu-run
case "$step" in
converge | train | generator | evaluate-speed | evaluate | render | export | demo-model) ;;
*)
    echo "unknown step '$step': use converge, train, generator, evaluate-speed, evaluate, render, export or demo-model (or --plan)" >&2
    exit 2
    ;;
esac
mkdir -p "$out" "$work"
export PYTHONUNBUFFERED=1

run_dir() {  # the converge run's folder, once it exists
    [ -d "$work/runs" ] || return 0
    find "$work/runs" -mindepth 2 -maxdepth 2 -type d -name '0*' | sort | head -n 1
}

case "$step" in
generator)
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/gpu.txt" || true
    "$py" benchmarks/generator_speed.py --device "$device" --out "$out/generator_speed.jsonl"
    if [ "$compile" = 1 ]; then
        "$py" benchmarks/generator_speed.py --device "$device" --compile reduce-overhead \
            --out "$out/generator_speed.jsonl"
    fi
    ;;
evaluate-speed)
    "$py" benchmarks/evaluate_speed.py --out "$out/evaluate_speed.jsonl"
    ;;
render)
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/gpu.txt" || true
    "$py" benchmarks/render_speed.py --device "$device" --upload interop --out "$out/render_speed.jsonl"
    "$py" benchmarks/render_speed.py --device "$device" --upload pbo --out "$out/render_speed.jsonl"
    "$py" benchmarks/render_speed.py --device "$device" --upload interop --cases grid --cross-batch \
        --out "$out/render_speed.jsonl"
    "$py" benchmarks/cross_model_batch.py --device "$device" --out "$out/cross_model_batch.jsonl"
    "$py" benchmarks/bf16_difference.py --device "$device" --out "$out/bf16_difference.jsonl"
    ;;
export)
    "$py" benchmarks/export_speed.py --mode both --device "$device" --out "$out/export_speed.jsonl"
    ;;
train)
    "$py" benchmarks/train_speed.py --device "$device" --out "$out/train_speed.jsonl"
    ;;
converge)
    run=$(run_dir)
    if [ -z "$run" ]; then
        mkdir -p "$work/demo"
        "$py" -c 'import sys; from training.footage.demo_clip import write_demo_clip
write_demo_clip(sys.argv[1], duration=float(sys.argv[2]), seed=1)' "$work/demo/sitter.mp4" "$demo_seconds"
        data="$work/demo/sitter-10fps-$res.zip"
        "$py" -m likeness prepare "$work/demo/sitter.mp4" --person Demo-sitter --consent \
            "Invented by training/footage/demo_clip.py (seed 1): no real person" --fps 10 --size "$res" -o "$data" -q
        status=0
        timeout -s INT "$train_seconds" "$py" -m likeness train --data "$data" --out "$work/runs" \
            --kimg 100000 --tick 4 --snap 20 --keep 0 --device "$device" || status=$?
    else
        status=0
        timeout -s INT "$train_seconds" "$py" -m likeness train --resume "$run" --kimg 100000 || status=$?
    fi
    [ "$status" = 0 ] || [ "$status" = 124 ] || [ "$status" = 130 ] || exit "$status"
    run=$(run_dir)
    # The grids in the order training wrote them (file names do not sort so once a fractional label appears).
    mapfile -t grids < <("$py" -c 'import json, sys
print("\n".join(dict.fromkeys(r["grid"] for r in map(json.loads, open(sys.argv[1])) if "grid" in r)))' \
        "$run/log.jsonl")
    cp "$run/fakes_init.png" "$run/reals.png" "$run/log.jsonl" "$run/config.json" "$out/"
    middle=${grids[$(( ${#grids[@]} / 2 ))]}
    [ "$middle" = "${grids[-1]}" ] || cp "$run/$middle" "$out/"
    cp "$run/${grids[-1]}" "$out/"
    tail -n 1 "$run/log.jsonl"
    ;;
demo-model)
    "$py" -m likeness demo-model --kimg "$demo_model_kimg" --device "$device" --work "$work/demo-model" \
        -o "$out/demo-model.pt"
    ;;
evaluate)
    run=$(run_dir)
    [ -n "$run" ] || { echo "no converge run in $work/runs: run the converge step first" >&2; exit 1; }
    "$py" -m likeness evaluate "$run" --num-fakes "$eval_fakes"
    cp "$run/metrics.jsonl" "$run/report.md" "$run/report.html" "$out/"
    ;;
esac
