#!/usr/bin/env bash
# Decode speed of the RWKV-7 Vulkan backend with each fusion of the time mixing
# (WB_VK_FUSED=0 unfused, 1 full wkv7_step, 2 partial), on a real GPU, so the
# default (off until measured) can be chosen from numbers. One prepared run on
# the lent GPU machine; prints `key value` lines and a table per model.
#
#   scripts/device_vulkan_fusion.sh WB [TEST_VULKAN] [OUT_DIR]
#
# WB: a built `wb`; TEST_VULKAN (optional): the test binary, whose fused-kernel
# parity cases run first. Models are synthesised on the machine with `wb synth`
# (random weights of real shapes), so nothing large travels.
#
# Getting binaries there (the device gets a copy of the working tree, 64 MiB in
# all): build here, copy the stripped binaries and their `ldd` libraries
# (libvulkan included) into an ignored folder such as .dev/ and pass it in
# `carry`; run with LD_LIBRARY_PATH=.dev/lib. test_vulkan reads fixtures from the
# path compiled into it (WB_FIXTURES_DIR): recreate that path there (e.g.
# `mkdir -p /work/shared && ln -s $PWD/.dev/fixtures /work/shared/fixtures`).
set -u
WB=${1:?usage: device_vulkan_fusion.sh WB [TEST_VULKAN] [OUT_DIR]}
TV=${2:-}
OUT=${3:-${OUT:-/tmp/wb-fusion}}
ROUNDS=${ROUNDS:-3}
TG=${TG:-128}   # decode tokens per bench run
mkdir -p "$OUT/models"
t0=$(date +%s)
mark() { echo "## t=$(( $(date +%s) - t0 ))s $*"; }

"$WB" devices || { echo "no Vulkan device"; exit 1; }
mark devices

if [ -n "$TV" ]; then
  "$TV" "vulkan: fused RWKV-7 decode step*,vulkan rwkv7:*,vulkan: random-weight*" > "$OUT/parity.txt" 2>&1
  echo "parity_rc $?"
  tail -3 "$OUT/parity.txt"
  mark parity
fi

# name layers embd (RWKV-7 0.19B, 0.45B, 1.5B shapes; vocab 65536, f16)
shapes=${SHAPES:-"r7-0.19b 12 768
r7-0.45b 24 1024
r7-1.5b 24 2048"}
while read -r name L C; do
  f="$OUT/models/$name-f16.gguf"
  "$WB" synth --arch rwkv7 --layers "$L" --embd "$C" --vocab 65536 --dtype f16 --out "$f" >/dev/null || exit 1
done <<< "$shapes"
mark synth

while read -r name L C; do
  f="$OUT/models/$name-f16.gguf"
  for r in $(seq 1 "$ROUNDS"); do
    for fused in 0 1 2; do   # alternated, so drift hits every variant alike
      tg=$(WB_VK_FUSED=$fused "$WB" bench "$f" --backend vulkan -p 64 -n "$TG" -r 2 2>&1 | awk -v k="tg$TG" '$1==k {print $2}')
      echo "model $name round $r fused $fused tg$TG ${tg:-error}"
      echo "$name $fused ${tg:-0}" >> "$OUT/tg.txt"
    done
  done
  for fused in 0 1 2; do   # where the time goes, per kernel
    WB_VK_PROFILE=1 WB_VK_FUSED=$fused "$WB" bench "$f" --backend vulkan -p 16 -n 64 -r 1 2>&1 |
      grep "vk_profile decode" > "$OUT/profile-$name-$fused.txt"
  done
  mark "$name"
done <<< "$shapes"

echo "| model | unfused tg$TG | full (1) | partial (2) |  (medians of $ROUNDS rounds)"
while read -r name L C; do
  row="| $name"
  for fused in 0 1 2; do
    med=$(awk -v n="$name" -v f="$fused" '$1==n && $2==f {print $3}' "$OUT/tg.txt" | sort -g |
          awk '{v[NR]=$1} END {print (NR ? v[int((NR+1)/2)] : "n/a")}')
    row="$row | $med"
  done
  echo "$row |"
done <<< "$shapes"
mark done
