#!/usr/bin/env bash
# The whole test suite: set-up, build, ctest. The README's test command.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh"
cd "${WB_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j "${WB_JOBS:-$(nproc)}" "$@"
