#!/usr/bin/env bash
# Frame times of the GUI while the model generates, with the GPU drawing the
# frames (workbench --offscreen: the machine has no display), the model on the
# CPU backend and then on the Vulkan backend. The question it answers: is any
# frame over 50 ms caused by generation once the renderer does not share the
# CPU with the model (on the 2-vCPU build VM lavapipe does)?
#
#   . scripts/device_setup.sh; bash scripts/device_gui_frames.sh OUT_DIR
#
# MODEL (default: the shipped prose model), TOKENS (default 12000), ROUNDS (2).
# Writes OUT_DIR/stats-BACKEND-ROUND.txt and frames-BACKEND-ROUND.log (per frame).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-${OUT:-/tmp/wb-gui}}
model=${MODEL:-$root/assets/models/prose-rwkv7.pth}
tokens=${TOKENS:-12000}
rounds=${ROUNDS:-2}
mkdir -p "$out"
for r in $(seq 1 "$rounds"); do
  for backend in cpu vulkan; do
    echo "== round $r backend $backend"
    WB_BUILD_DIR=${WB_BUILD_DIR:-$root/build} WB_USE_DISPLAY=${WB_USE_DISPLAY:-1} WB_OFFSCREEN=1 \
      WB_GUI_BACKEND=$backend WB_FRAME_LOG="$out/frames-$backend-$r.log" \
      timeout 300 bash "$root/scripts/bench_gui_frames.sh" "$model" "$tokens" "$out/stats-$backend-$r.txt" 2>&1 |
      grep -E "tokens/s|^(device|frames_generating|generating_(median|p95|max)_ms|generating_over_50ms|idle_over_50ms|phase_(app|ui|render)_max_ms) "
  done
done
