#!/usr/bin/env bash
# Set-up, build, and launch the workbench (arguments are passed on).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh" >/dev/null
exec "${WB_BUILD_DIR:-$root/build}/workbench/workbench" "$@"
