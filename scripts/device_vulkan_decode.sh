#!/usr/bin/env bash
# Decode speed of the RWKV-7 Vulkan backend on a real GPU, one variant against
# another. Since session 13 a GPU chooses its own decode variant at load
# (decode_tuner.hpp: `tuned`); the default variants ask whether that choice
# matches the bench figures, against the chain alone (`chain`), the persistent
# layer by hand with 8 rows per block (WB_VK_PERSIST=auto WB_VK_PERSIST_ROWS=8,
# rwkv7_layer_*.comp: 1 dispatch and 4 grid barriers per layer instead of 7
# dependent dispatches; the tuner tries 4 rows), with the LoRA up-projections
# spread over every workgroup (WB_VK_PERSIST_UP=1), and
# the layer norms done by the residual matmuls' last workgroup
# (WB_VK_LN_TAIL=1, matmul_tail_*.comp: 2 dependent steps fewer per layer).
# Earlier questions, still selectable through VARIANTS: the
# per-row matmuls' workgroup width (WB_VK_ROW_WG=64|128|256; 128 since session 9),
# reused recordings (WB_VK_REUSE) and the fused time mixing (WB_VK_FUSED=0
# unfused, 1 full wkv7_step, 2 partial). (The layer norms folded into the matmuls
# were 10-30% slower on an H100 and are gone, session 9.) One prepared run on the lent GPU
# machine; prints `key value` lines (each run's tokens/s and its
# bandwidth_fraction: decode bytes x tg over what read_sum.comp reads per second
# from the GPU's memory) and tables of their medians, and keeps the
# per-kernel profiles ([record] = host time before the GPU could start,
# [barriers] = dependent steps per call).
#
#   scripts/device_vulkan_decode.sh WB [TEST_VULKAN] [OUT_DIR]
#
# WB: a built `wb`; TEST_VULKAN (optional): the test binary, whose RWKV-7 parity
# cases (fused kernel, reused recordings, fixtures, real-shape random models)
# run first. LLAMA_BENCH (optional): a llama.cpp `llama-bench` built with Vulkan,
# run on the same synthesised models for a side-by-side figure. Models are
# synthesised on the machine with `wb synth` (random weights of real shapes), so
# nothing large travels.
#
# Getting binaries there (the device gets a copy of the working tree, 64 MiB in
# all): scripts/device_bundle.sh here (FIXTURES=1, LLAMA_DIR=...), carry .dev and
# .gl, and on the machine `. scripts/device_setup.sh` first (see its header).
set -u
WB=${1:?usage: device_vulkan_decode.sh WB [TEST_VULKAN] [OUT_DIR]}
TV=${2:-}
OUT=${3:-${OUT:-/tmp/wb-decode}}
ROUNDS=${ROUNDS:-3}
TG=${TG:-128}   # decode tokens per bench run
LLAMA_BENCH=${LLAMA_BENCH:-}
# name and environment of each variant, alternated within every round (names in
# letters, digits and '-': they name the profile files)
# ("tuned" is what a GPU gets by default: the decode variants measured at load,
# decode_tuner.hpp, and the fastest that agrees with the chain kept; "chain" the
# reference alone, as before session 13.)
VARIANTS=${VARIANTS:-"tuned WB_VK_TUNE=1
chain WB_VK_TUNE=0
persist-r8 WB_VK_PERSIST=auto WB_VK_PERSIST_ROWS=8
persist-r8-up WB_VK_PERSIST=auto WB_VK_PERSIST_ROWS=8 WB_VK_PERSIST_UP=1
ln-tail WB_VK_LN_TAIL=1"}
# the variants whose per-kernel profile is kept (each costs one more bench run per model)
PROFILE_VARIANTS=${PROFILE_VARIANTS:-"chain persist-r8-up"}
mkdir -p "$OUT/models"
t0=$(date +%s)
mark() { echo "## t=$(( $(date +%s) - t0 ))s $*"; }

"$WB" devices || { echo "no Vulkan device"; exit 1; }
mark devices

if [ -n "$TV" ]; then
  # (the validation-layer cases need the layer carried along: PARITY_FILTER to add them)
  filter=${PARITY_FILTER:-"~[validation] vulkan: fused RWKV-7 decode step*,~[validation] vulkan: matmul*,~[validation] vulkan rwkv7:*,~[validation] vulkan: random-weight*,vulkan: a grid barrier*,decode tuner*"}
  timeout 240 "$TV" "$filter" > "$OUT/parity.txt" 2>&1
  echo "parity_rc $?"
  grep -E "FAILED|^test cases|^assertions|All tests" "$OUT/parity.txt" | head -20
  # The whole models again with each candidate default's environment (the tails
  # and the grid barriers rely on atomics and coherent reads across workgroups: a
  # real GPU's memory model is the test that matters; lavapipe cannot run more
  # than one persistent workgroup).
  i=0
  while read -r env_vars; do
    [ -n "$env_vars" ] || continue
    i=$((i + 1))
    env $env_vars timeout 120 "$TV" "~[validation] vulkan rwkv7:*,~[validation] vulkan: random-weight*" \
      > "$OUT/parity-env$i.txt" 2>&1
    echo "parity_env_rc $? ($env_vars)"
    grep -E "FAILED|^test cases|^assertions|All tests" "$OUT/parity-env$i.txt" | head -20
  done <<< "${PARITY_ENVS:-WB_VK_PERSIST=128
WB_VK_PERSIST=128 WB_VK_PERSIST_ROWS=16 WB_VK_PERSIST_UP=1
WB_VK_LN_TAIL=1}"
  mark parity
  # What a decode step is made of on this GPU: one dependent step's cost and the
  # per-row matmul's bandwidth at the 0.19B / 1.5B decode shapes.
  timeout 90 "$TV" "bench: kernel micro-timings" > "$OUT/micro.txt" 2>&1
  grep -E "^(dependent_step_us|independent_dispatch_us|matmul_.*_GBps) " "$OUT/micro.txt"
  mark micro
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

: > "$OUT/tg.txt"
while read -r name L C; do
  f="$OUT/models/$name-f16.gguf"
  for r in $(seq 1 "$ROUNDS"); do
    while read -r vname venv; do   # alternated, so drift hits every variant alike
      out=$(env $venv timeout 120 "$WB" bench "$f" --backend vulkan -p 64 -n "$TG" -r 2 2>&1)
      tg=$(awk -v k="tg$TG" '$1==k {print $2}' <<< "$out")
      # against what a plain read of the GPU's memory achieves (read_sum.comp)
      frac=$(awk '$1=="bandwidth_fraction" {print $2}' <<< "$out")
      rbw=$(awk '$1=="read_bandwidth_gbs" {print $2}' <<< "$out")
      # The load-time measurement's choice and its per-step times (tuned runs).
      chosen=$(awk '$1=="decode_variant" {print $2}' <<< "$out")
      tune=$(awk '$1 ~ /^decode_tune_/ {printf "%s %s ", $1, $2}' <<< "$out")
      [ -n "$tune" ] && echo "model $name round $r variant $vname decode_variant $chosen $tune"
      # A persistent layer whose grid barrier gave up runs the usual recording
      # from then on (a warning on stderr): its figure would not be the variant's
      # (a tuned run leaves such a variant out and keeps its own figure).
      if grep -q "did not run the" <<< "$out" && [ -z "$tune" ]; then
        echo "model $name round $r variant $vname tg$TG ${tg:-error} gave_up"
        tg=0
        frac=0
      else
        echo "model $name round $r variant $vname read_bandwidth_gbs ${rbw:-n/a} bandwidth_fraction ${frac:-n/a} tg$TG ${tg:-error}"
      fi
      echo "$name $vname ${tg:-0} ${frac:-0}" >> "$OUT/tg.txt"
    done <<< "$VARIANTS"
  done
  while read -r vname venv; do   # where the time goes, per kernel
    case " $PROFILE_VARIANTS " in *" $vname "*) ;; *) continue ;; esac
    env $venv WB_VK_PROFILE=1 timeout 120 "$WB" bench "$f" --backend vulkan -p 16 -n 64 -r 1 2>&1 |
      grep "vk_profile decode" > "$OUT/profile-$name-$vname.txt"
    echo "profile $name $vname $(grep -E 'decode \[(gpu|host|record)\]' "$OUT/profile-$name-$vname.txt" |
      awk '{printf "%s_mean_us %s ", $3, $9}')$(awk '$3=="[gpu]" {n=$5} $3=="[barriers]" {b=$5} $3=="[dispatches]" {d=$5}
      END {if (n) printf "barriers_per_call %.0f dispatches_per_call %.0f", b/n, d/n}' "$OUT/profile-$name-$vname.txt")"
  done <<< "$VARIANTS"
  if [ -n "$LLAMA_BENCH" ] && [ "$name" != r7-1.5b ]; then
    timeout 120 "$LLAMA_BENCH" -m "$f" -p 512 -n "$TG" -ngl 99 -r 3 2>&1 | grep -E "pp512|tg$TG" | sed "s/^/llama $name /"
    timeout 120 "$WB" bench "$f" --backend vulkan -p 512 -n "$TG" -r 3 --batch 4 2>&1 |
      grep -E "^(pp512|tg$TG|tg${TG}_batch4|batch4_cost_vs_one) " |
      sed "s/^/wb $name /"
  fi
  mark "$name"
done <<< "$shapes"

header="| model"
while read -r vname venv; do header="$header | $vname"; done <<< "$VARIANTS"
for col in 3 4; do   # tokens/s, then the fraction of the measured read bandwidth
  [ $col = 3 ] && what="tg$TG tokens/s" || what="bandwidth_fraction"
  echo "$header |  ($what, medians of $ROUNDS rounds)"
  while read -r name L C; do
    row="| $name"
    while read -r vname venv; do
      med=$(awk -v n="$name" -v v="$vname" -v c=$col '$1==n && $2==v {print $c}' "$OUT/tg.txt" | sort -g |
            awk '{v[NR]=$1} END {print (NR ? v[int((NR+1)/2)] : "n/a")}')
      row="$row | $med"
    done <<< "$VARIANTS"
    echo "$row |"
  done <<< "$shapes"
done
mark done
