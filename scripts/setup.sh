#!/usr/bin/env bash
# Installs every build, test and run dependency from Debian's packages.
# Idempotent and quiet: when everything is present it prints nothing and
# touches nothing. Runs apt-get as root, or through sudo.
set -euo pipefail

packages=(
  # toolchain
  cmake g++ make pkg-config ninja-build clang
  # libraries fixed by the design card
  libimgui-dev libglfw3-dev libx11-dev libvulkan-dev glslc mesa-vulkan-drivers
  vulkan-tools vulkan-validationlayers
  libsentencepiece-dev sentencepiece libfmt-dev catch2 libsqlite3-dev
  # well-kept helpers instead of hand-written code
  nlohmann-json3-dev libpng-dev zlib1g-dev libzstd-dev nettle-dev
  # MIDI playback / checks
  libfluidsynth-dev fluid-soundfont-gm midicsv
  # GUI tests under a virtual display
  xvfb xauth
  # GUI fonts found at run time: Latin + CJK
  fonts-dejavu-core fonts-wqy-microhei
  # training recipe (CPU PyTorch + fast BLAS)
  python3 python3-numpy python3-torch python3-sentencepiece libopenblas0-pthread
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
