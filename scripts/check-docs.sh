#!/usr/bin/env bash
# Builds the DocC documentation of the modules a plugin author reads (TelegramBotAPI and
# BotHostKit: their catalogs and every public symbol's comment) from the debug build's
# modules, and fails on any warning: a link to a symbol that does not exist, a catalog
# that does not compile. Run after `swift build`; writes .build/docs/MODULE.doccarchive.
set -euo pipefail
cd "$(dirname "$0")/.."
build=.build/debug
maps=()
while IFS= read -r map; do maps+=(-Xcc "-fmodule-map-file=$map"); done < <(
  { ls "$build"/*.build/module.modulemap; find .build/checkouts -name module.modulemap; } 2>/dev/null | sort -u)
for module in TelegramBotAPI BotHostKit; do
  graphs=.build/docs/symbol-graphs/$module
  rm -rf "$graphs" ".build/docs/$module.doccarchive"
  mkdir -p "$graphs"
  swift symbolgraph-extract -module-name "$module" -I "$build/Modules" -target "$(uname -m)-unknown-linux-gnu" \
    -output-dir "$graphs" -minimum-access-level public "${maps[@]}"
  # The kit re-exports TelegramBotAPI: its symbols are documented there, not again here.
  find "$graphs" -name "$module@*.symbols.json" -delete
  docc convert "Sources/$module/$module.docc" --additional-symbol-graph-dir "$graphs" \
    --output-path ".build/docs/$module.doccarchive" --fallback-display-name "$module" \
    --fallback-bundle-identifier "bothost.$module" --warnings-as-errors
done
