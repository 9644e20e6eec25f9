#!/usr/bin/env bash
# Builds the DocC documentation of TelegramBotAPI (its catalog and every symbol's comment)
# from the debug build's module, and fails on any warning: a link to a symbol that does
# not exist, a catalog that does not compile. Run after `swift build`; writes to
# .build/docs/TelegramBotAPI.doccarchive.
set -euo pipefail
cd "$(dirname "$0")/.."
build=.build/debug
graphs=.build/docs/symbol-graphs
rm -rf "$graphs" .build/docs/TelegramBotAPI.doccarchive
mkdir -p "$graphs"
maps=()
while IFS= read -r map; do maps+=(-Xcc "-fmodule-map-file=$map"); done < <(
  { ls "$build"/*.build/module.modulemap; find .build/checkouts -name module.modulemap; } 2>/dev/null | sort -u)
swift symbolgraph-extract -module-name TelegramBotAPI -I "$build/Modules" -target "$(uname -m)-unknown-linux-gnu" \
  -output-dir "$graphs" -minimum-access-level public "${maps[@]}"
docc convert Sources/TelegramBotAPI/TelegramBotAPI.docc --additional-symbol-graph-dir "$graphs" \
  --output-path .build/docs/TelegramBotAPI.doccarchive --fallback-display-name TelegramBotAPI \
  --fallback-bundle-identifier bothost.TelegramBotAPI --warnings-as-errors
