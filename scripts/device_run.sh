#!/usr/bin/env bash
# One prepared run for a lent GPU machine, sized for one call of the device
# tool (600 s): unpacks the Vulkan loader debs and the bundle, then
#   1. scripts/device_vulkan_decode.sh: RWKV-7 parity subset and decode speed,
#      the current question's variants (see its header), ROUNDS=2;
#   2. with GUI=1: scripts/device_gui_frames.sh, GUI frame times with the GPU
#      drawing offscreen, the model on the CPU and on Vulkan (issue #10's 50 ms
#      goal, met in session 9: off by default so decode gets the time);
# and packs everything into $OUT/results.tgz (the device returns 8 files at most).
#
# Here first: build, then FIXTURES=1 [LLAMA_DIR=...] scripts/device_bundle.sh.
# On the device (carry .dev and .gl), e.g. with timeout_s 590:
#   bash scripts/device_run.sh
# DECODE_S / GUI_S bound each part (seconds; defaults 450 / 200).
set -u
OUT=${OUT:?the device tool sets OUT}
t0=$(date +%s)
for f in .gl/*.deb; do dpkg -x "$f" / 2>/dev/null; done
ldconfig
. scripts/device_setup.sh
echo "## setup $(( $(date +%s) - t0 ))s"
ROUNDS=${DECODE_ROUNDS:-2} timeout "${DECODE_S:-450}" bash scripts/device_vulkan_decode.sh \
  "$WB_DEV_BIN/wb" "$WB_DEV_BIN/test_vulkan" "$OUT/decode" 2>&1 | tee "$OUT/decode.txt" | grep -Ev "^model .*[0-9]$"
echo "## decode done $(( $(date +%s) - t0 ))s"
if [ "${GUI:-0}" = 1 ]; then
  ROUNDS=${GUI_ROUNDS:-1} TOKENS=${GUI_TOKENS:-6000} timeout "${GUI_S:-200}" bash scripts/device_gui_frames.sh \
    "$OUT/gui" 2>&1 | tee "$OUT/gui.txt"
  echo "## gui done $(( $(date +%s) - t0 ))s"
fi
tar czf "$OUT/results.tgz" -C "$OUT" --exclude results.tgz --exclude models --exclude '*.gguf' . 2>/dev/null
ls -la "$OUT/results.tgz"
