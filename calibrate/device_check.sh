#!/usr/bin/env bash
# The calibration run for a GPU machine, in one go (docs/calibration.md, docs/validation.md):
#   1. build herd-calibrate with its CUDA backend (skipped when build-device/bin/herd-calibrate
#      was built beforehand and travels with the tree);
#   2. self-test: the GPU layer (BF16) against the CPU reference;
#   3. measure Llama 3 405B at TP 8 and Llama 3 8B at TP 1 (8K, 4K and 2K tokens), each op alone
#      and whole layers, plus NCCL over all local GPUs (skipped, and said, with one GPU);
#   4. a sustained run: one 405B layer back to back for 120 s (the speed the GPU keeps under its
#      power and thermal limits, with nvidia-smi's clocks and power alongside);
#   5. fit a profile from both models, and one from 405B alone;
#   6. compare whole layers, measured against Herd's prediction before and after calibration,
#      in-sample (both models) and held out (the 405B-only profile predicting the 8B layers).
# Everything lands in $OUT: raw-<gpu>-<date>.json, <gpu>-<date>.json (the profile), the fit
# report, the logs and compare.txt. Usage: OUT=/some/dir calibrate/device_check.sh
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
OUT=${OUT:-$here/device-out}
mkdir -p "$OUT"
export PATH=/usr/local/cuda/bin:$PATH
build=${HERD_DEVICE_BUILD:-build-device}
bin=$build/bin/herd-calibrate
started=$(date +%s)
step() { echo "== $(( $(date +%s) - started ))s: $*" | tee -a "$OUT/steps.txt"; }

nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1 || true
if ! "$bin" --help > /dev/null 2>&1; then  # not carried over, or built against other libraries
  step "build"
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHERD_BUILD_TESTS=OFF \
        -DHERD_BUILD_BENCHMARKS=OFF > "$OUT/configure.log" 2>&1
  cmake --build "$build" --target herd-calibrate -j "$(nproc)" > "$OUT/build.log" 2>&1
fi

step "self-test"
"$bin" self-test --backend cuda 2>&1 | tee "$OUT/self-test.txt" || echo "self-test FAILED (see self-test.txt); measuring anyway" | tee -a "$OUT/steps.txt"

gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader -i 0 2>/dev/null | head -1 | tr 'A-Z' 'a-z' | tr -cs 'a-z0-9' '-' | sed 's/-$//')
gpu=${gpu:-gpu}
date=$(date -u +%Y-%m-%d)

step "measure 405B TP 8 (with NCCL over all local GPUs)"
timeout 300 "$bin" measure --backend cuda --model llama3-405b-16k:8 -o "$OUT/raw-405b-$gpu-$date.json" 2> "$OUT/measure-405b.log"
step "measure 8B TP 1"
timeout 240 "$bin" measure --backend cuda --model llama3-8b:1 --no-nccl -o "$OUT/raw-8b-$gpu-$date.json" 2> "$OUT/measure-8b.log"

step "sustained: a 405B TP 8 layer back to back for 120 s, clocks and power sampled every second"
nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,temperature.gpu,clocks_throttle_reasons.active \
           --format=csv -lms 1000 > "$OUT/clocks.csv" 2>&1 &
smi=$!
timeout 200 "$bin" measure --backend cuda --model llama3-405b-16k:8 --seq-fractions 1 --layers-only --sustain 120 \
        -o "$OUT/raw-405b-sustained-$gpu-$date.json" 2> "$OUT/measure-sustained.log" || true
kill "$smi" 2> /dev/null || true
sustained=()
[ -s "$OUT/raw-405b-sustained-$gpu-$date.json" ] && sustained=("$OUT/raw-405b-sustained-$gpu-$date.json")

step "fit"
"$bin" fit "$OUT/raw-405b-$gpu-$date.json" "$OUT/raw-8b-$gpu-$date.json" "${sustained[@]}" -o "$OUT/$gpu-$date.json" \
      --report "$OUT/fit-report-$gpu-$date.json" | tee "$OUT/fit.txt"
"$bin" fit "$OUT/raw-405b-$gpu-$date.json" "${sustained[@]}" -o "$OUT/$gpu-$date-405b-only.json" > "$OUT/fit-405b-only.txt"

step "compare"
{
  echo "# In sample: the profile fitted on both models"
  "$bin" compare "$OUT/$gpu-$date.json" "$OUT/raw-405b-$gpu-$date.json" "$OUT/raw-8b-$gpu-$date.json" "${sustained[@]}"
  echo
  echo "# Held out: the profile fitted on 405B alone, predicting the 8B layers"
  "$bin" compare "$OUT/$gpu-$date-405b-only.json" "$OUT/raw-8b-$gpu-$date.json"
} | tee "$OUT/compare.txt"
step "done"
