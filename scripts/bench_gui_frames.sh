#!/usr/bin/env bash
# Frame times of the workbench while it generates (a benchmark, not a test):
# a scripted session on a model under Xvfb, frame-time statistics as
# `key value` lines (frames_generating, generating_median_ms, ..._p95_ms,
# ..._max_ms, ..._over_50ms, the same for idle frames and all frames, per
# phase: app / ui / render, and the load average when it ended).
#
#   scripts/bench_gui_frames.sh [MODEL] [TOKENS] [OUT_FILE]
#
# MODEL defaults to the tiny RWKV-7 fixture; TOKENS (default 3000) are
# generated in one continuation, then 4 alternatives of TOKENS/6 each.
# WB_FRAME_LOG=FILE also keeps the per-frame log (workbench --frame-log) and
# summarises it (scripts/frame_log_report.py); WB_STALL_PROBE=FILE runs
# scripts/cpu_stall_probe.py meanwhile, so the summary can tell frames slowed
# by the machine itself (host stalls) from the others. WB_OFFSCREEN=1 draws the
# frames into the workbench's own images instead of presenting them (--offscreen:
# GPU machines without a display; here, the X present path left out).
# WB_GUI_BACKEND=cpu|vulkan runs the model on that backend (the app's setting);
# WB_USE_DISPLAY=1 uses the X display in DISPLAY instead of starting xvfb-run.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${WB_BUILD_DIR:-$root/build}
model=${1:-/work/shared/fixtures/rwkv-cpp-tiny/tiny-rwkv-7v0-834K-FP32.bin}
tokens=${2:-3000}
out=${3:-}
tmp=$(mktemp -d)
probe_pid=
trap 'rm -rf "$tmp"; [ -z "$probe_pid" ] || kill "$probe_pid" 2>/dev/null || true' EXIT
cat > "$tmp/bench.txt" <<SCRIPT
new-project $tmp/bench.wbstory $model
type Once upon a time
frames 60
continue $tokens
wait-generation
frames 60
alternatives 4 $((tokens / 6))
wait-generation
frames 120
SCRIPT
if [ -n "${WB_STALL_PROBE:-}" ]; then
  "$root/scripts/cpu_stall_probe.py" 900 "$WB_STALL_PROBE" &
  probe_pid=$!
fi
if [ -n "${WB_GUI_BACKEND:-}" ]; then
  mkdir -p "$tmp/config/rwkv-workbench"
  printf '{"backend": "%s"}\n' "$WB_GUI_BACKEND" > "$tmp/config/rwkv-workbench/workbench.json"
fi
x11=(xvfb-run -a -s '-screen 0 1600x1200x24')
[ "${WB_USE_DISPLAY:-0}" = 1 ] && x11=()
XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data" \
  "${x11[@]}" "$build/workbench/workbench" \
  --script "$tmp/bench.txt" --size 1280x800 --frame-stats "$tmp/stats.txt" \
  ${WB_FRAME_LOG:+--frame-log "$WB_FRAME_LOG"} $([ "${WB_OFFSCREEN:-0}" = 1 ] && echo --offscreen) >"$tmp/log.txt" 2>&1 || {
  cat "$tmp/log.txt" >&2
  exit 1
}
[ -z "$probe_pid" ] || kill "$probe_pid"
probe_pid=
grep -h "tokens/s" "$tmp/log.txt" | sed 's/^\[info\] /# /' || true
cat "$tmp/stats.txt"
if [ -n "${WB_FRAME_LOG:-}" ]; then
  "$root/scripts/frame_log_report.py" "$WB_FRAME_LOG" ${WB_STALL_PROBE:+"$WB_STALL_PROBE"} | sed 's/^/# /'
fi
[ -z "$out" ] || cp "$tmp/stats.txt" "$out"
