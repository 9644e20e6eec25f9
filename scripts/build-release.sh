#!/usr/bin/env bash
# Builds BotHost for production into .build/static/ (a scratch path of its own, so that it
# does not undo a plain `swift build -c release`); the executable is
# .build/static/release/bothost.
#
#   scripts/build-release.sh                     # bothost
#   scripts/build-release.sh --product bothost-bench
#
# The Swift runtime and Foundation are linked into the executable (the target machine
# needs no Swift libraries, and each process maps only the parts it uses), by lld (which
# comes with Swift) with packed relative relocations, and without exporting the
# executable's symbols, which nothing looks up. With a supervisor and two workers that
# is about 20 MiB less memory for the whole host (README, "Performance").
set -euo pipefail
cd "$(dirname "$0")/.."
swift=${SWIFT:-swift}
lld=$(command -v ld.lld) || { echo "build-release.sh: ld.lld not found (it comes with Swift's toolchain)" >&2; exit 1; }
mkdir -p .build
toolset=.build/release-toolset.json
cat > "$toolset" <<JSON
{ "schemaVersion": "1.0", "linker": { "path": "$lld", "extraCLIOptions": ["-z", "pack-relative-relocs"] } }
JSON
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(--product bothost)
exec "$swift" build -c release --scratch-path .build/static --static-swift-stdlib \
  --toolset "$toolset" -Xlinker --no-export-dynamic "${args[@]}"
