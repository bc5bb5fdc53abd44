# Sourced on a lent GPU machine, in the repository root, after the device
# README's .gl debs are unpacked: unpacks what scripts/device_bundle.sh put in
# .dev/, points the paths compiled into the binaries (built in /work/main
# beside /work/shared) at this copy, and starts Xvfb for the GUI's window.
#
# (scripts/device_run.sh does all of the below in one call.)
#   for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig; . scripts/device_setup.sh
#   bash scripts/device_vulkan_decode.sh "$WB_DEV_BIN/wb" "$WB_DEV_BIN/test_vulkan" "$OUT"
#   bash scripts/device_gui_frames.sh "$OUT/gui"
#   tar czf "$OUT/results.tgz" -C "$OUT" --exclude results.tgz --exclude models .   # 8 files come back at most
#
# Build first here: scripts/device_bundle.sh (FIXTURES=1 for test_vulkan's
# fixtures, LLAMA_DIR=... for llama-bench), then carry .dev and .gl.
# Session 7 notes: the NVIDIA ICD sits in /usr/share/vulkan/icd.d and needs the
# glvnd libraries from the .gl debs; without them the loader finds no driver.
wb_dev=$PWD/.dev
for f in "$wb_dev"/*.tar.xz; do tar xJf "$f" -C "$wb_dev"; done
export LD_LIBRARY_PATH=$wb_dev/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
[ -d "$wb_dev/llama" ] && export LD_LIBRARY_PATH=$LD_LIBRARY_PATH:$wb_dev/llama LLAMA_BENCH=$wb_dev/llama/llama-bench
export WB_DEV_BIN=$wb_dev/bin
# The source tree (presets, assets), the build's plugin folder and the fixtures,
# where the binaries look for them. Never over an existing /work/main (here).
if [ ! -e /work/main ]; then mkdir -p /work && ln -s "$PWD" /work/main; fi
if [ "$(readlink -f /work/main)" = "$(readlink -f "$PWD")" ]; then
  mkdir -p build/lib/rwkv-workbench
  ln -sfn "$wb_dev/plugins" build/lib/rwkv-workbench/plugins
  ln -sfn "$wb_dev/bin" build/workbench
fi
if [ -d "$wb_dev/fx" ] && [ ! -e /work/shared/fixtures ]; then mkdir -p /work/shared && ln -s "$wb_dev/fx" /work/shared/fixtures; fi
# An X display for the GUI's (hidden) window: workbench --offscreen draws on the GPU.
if [ -x "$wb_dev/xvfb/Xvfb" ] && [ -z "${DISPLAY:-}" ]; then
  [ -e /usr/share/X11/xkb ] || { mkdir -p /usr/share/X11 && cp -r "$wb_dev/xvfb/share/xkb" /usr/share/X11/xkb; }
  [ -e /usr/bin/xkbcomp ] || cp "$wb_dev/xvfb/xkbcomp" /usr/bin/xkbcomp
  "$wb_dev/xvfb/Xvfb" :99 -screen 0 1600x1200x24 -nolisten tcp >"${OUT:-/tmp}/xvfb.log" 2>&1 &
  export DISPLAY=:99
  sleep 1
fi
