#!/usr/bin/env bash
# Packs what a lent GPU machine needs into .dev/ (git-ignored; name it in the
# device tool's `carry`): the built binaries and the libraries they load, the
# shipped plugins, Xvfb for the GUI's window, and optionally the RWKV-7 fixtures
# (test_vulkan) and a llama.cpp build. The machine gets a copy of the working
# tree and what is carried, 64 MiB in all; this prints the total.
#
#   scripts/device_bundle.sh            # then, on the machine: . scripts/device_setup.sh
#   FIXTURES=1 LLAMA_DIR=/path/to/llama/bin scripts/device_bundle.sh
#
# The machine's glibc and libstdc++ are used (not carried); the device README's
# .gl debs (glvnd, Vulkan loader) are unpacked there first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${WB_BUILD_DIR:-$root/build}
dev=$root/.dev
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
rm -rf "$dev"
mkdir -p "$dev" "$stage/bin" "$stage/lib" "$stage/plugins" "$stage/xvfb/share"

cp "$build/workbench/wb" "$build/workbench/workbench" "$stage/bin/"
[ -x "$build/tests/test_vulkan" ] && cp "$build/tests/test_vulkan" "$stage/bin/"
cp "$build"/lib/rwkv-workbench/plugins/* "$stage/plugins/"
cp /usr/bin/Xvfb /usr/bin/xkbcomp "$stage/xvfb/"
cp -r /usr/share/X11/xkb "$stage/xvfb/share/xkb"
strip "$stage"/bin/* "$stage"/plugins/*.so 2>/dev/null || true
# Every library the binaries, plugins and Xvfb load, but the C and C++ runtimes.
for f in "$stage"/bin/* "$stage"/plugins/*.so "$stage"/xvfb/Xvfb "$stage"/xvfb/xkbcomp; do ldd "$f" 2>/dev/null; done |
  awk '/=>/ && $3 ~ /^\// {print $3}' | sort -u |
  grep -v -E '/(libc|libm|libstdc\+\+|libgcc_s|libpthread|libdl|librt|ld-linux[^/]*)\.so' |
  while read -r l; do cp -L "$l" "$stage/lib/"; done

(cd "$stage" && XZ_OPT=-9 tar cJf "$dev/binlib.tar.xz" bin lib plugins && XZ_OPT=-9 tar cJf "$dev/xvfb.tar.xz" xvfb)
if [ "${FIXTURES:-0}" = 1 ]; then
  mkdir -p "$stage/fx/rwkv-cpp-tiny"
  cp "$root"/../shared/fixtures/rwkv-cpp-tiny/*7v0* "$stage/fx/rwkv-cpp-tiny/"
  (cd "$stage" && tar cJf "$dev/fx.tar.xz" fx)
fi
if [ -n "${LLAMA_DIR:-}" ]; then
  mkdir -p "$stage/llama" && cp -L "$LLAMA_DIR"/llama-bench "$LLAMA_DIR"/*.so* "$stage/llama/"
  (cd "$stage" && tar cJf "$dev/llama.tar.xz" llama)
fi
tracked=$(cd "$root" && git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1)
carried=$(du -cb "$dev" | tail -1 | cut -f1)
ls -la "$dev"
echo "tracked_bytes $tracked"
echo "carried_bytes $carried"
echo "total_mib $(( (tracked + carried) / 1048576 )) (limit 64)"
