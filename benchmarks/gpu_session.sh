#!/usr/bin/env bash
# The GPU figures that issues 3 and 5 ask for, cut into steps that each end well inside a 10-minute command, so a
# session with a borrowed GPU (30 minutes in all) spends its time measuring rather than planning.
#
#   benchmarks/gpu_session.sh speed    OUT   generator_speed (eager, then torch.compile reduce-overhead) and
#                                             evaluate_speed (50,000 fakes against 10,000 reals)          ~7 min
#   benchmarks/gpu_session.sh train    OUT   train_speed: config F at 256 px, batch 32, 40 kimg            ~4-8 min
#   benchmarks/gpu_session.sh converge OUT   first call: the demo clip -> a 128 px 10 fps dataset -> `likeness
#                                             train` for $TRAIN_SECONDS, stopped with SIGINT (which writes a
#                                             snapshot); later calls resume the same run for as long again. Each
#                                             call copies the first, middle and newest fakes grids, the reals and
#                                             log.jsonl into OUT                                             ~9 min
#   benchmarks/gpu_session.sh evaluate OUT   FID/KID/precision-recall of the converge run's snapshots (5,000 fakes
#                                             each, all 1,200 reals) and its report.md                      ~2 min
#
# Run from the repository root with the project importable (PYTHONPATH=. on a machine without an install). The
# converge run lives in .gpu-run/ (git-ignored), so it survives between commands on the same machine. A GPU machine
# without the project's packages needs av and tqdm carried as wheels for its Python (torch, numpy, pillow, scipy and
# pyyaml are usually there; tensorboard is optional).
# Overridable: PYTHON (python3), TRAIN_SECONDS (480), CONVERGE_RES (128), DEMO_SECONDS (120), EVAL_FAKES (5000),
# DEVICE (auto).
set -euo pipefail

step=${1:?usage: benchmarks/gpu_session.sh speed|train|converge|evaluate OUTDIR}
out=${2:?usage: benchmarks/gpu_session.sh speed|train|converge|evaluate OUTDIR}
py=${PYTHON:-python3}
train_seconds=${TRAIN_SECONDS:-480}
res=${CONVERGE_RES:-128}
demo_seconds=${DEMO_SECONDS:-120}
eval_fakes=${EVAL_FAKES:-5000}
device=${DEVICE:-auto}
work=.gpu-run
mkdir -p "$out" "$work"
export PYTHONUNBUFFERED=1

run_dir() {  # the converge run's folder, once it exists
    [ -d "$work/runs" ] || return 0
    find "$work/runs" -mindepth 2 -maxdepth 2 -type d -name '0*' | sort | head -n 1
}

case "$step" in
speed)
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/gpu.txt" || true
    "$py" benchmarks/generator_speed.py --device "$device" --out "$out/generator_speed.jsonl"
    "$py" benchmarks/generator_speed.py --device "$device" --compile reduce-overhead \
        --out "$out/generator_speed.jsonl"
    "$py" benchmarks/evaluate_speed.py --out "$out/evaluate_speed.jsonl"
    ;;
train)
    "$py" benchmarks/train_speed.py --device "$device" --out "$out/train_speed.jsonl"
    ;;
converge)
    run=$(run_dir)
    if [ -z "$run" ]; then
        "$py" -m likeness demo --outdir "$work/demo" --size "$res" --duration "$demo_seconds" -q
        data=$(ls "$work"/demo/sitter-10fps-*.zip)
        status=0
        timeout -s INT "$train_seconds" "$py" -m likeness train --data "$data" --outdir "$work/runs" \
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
evaluate)
    run=$(run_dir)
    [ -n "$run" ] || { echo "no converge run in $work/runs: run the converge step first" >&2; exit 1; }
    "$py" -m likeness evaluate "$run" --num-fakes "$eval_fakes"
    cp "$run/metrics.jsonl" "$run/report.md" "$run/report.html" "$out/"
    ;;
*)
    echo "unknown step '$step': use speed, train, converge or evaluate" >&2
    exit 2
    ;;
esac
