#!/usr/bin/env bash
# Install the npm tools the map size benchmark compares against (mapshaper, and
# topojson-client for the page it makes) into benchmarks/node_modules, at the
# versions benchmarks/package-lock.json pins. Run by `make bench` only: the
# tests and the demo never need node packages beyond the map assets.
set -euo pipefail
here=$(cd "$(dirname "$0")/../benchmarks" && pwd)
stamp="$here/node_modules/.localitygeo-installed"
if [ -f "$stamp" ] && [ "$stamp" -nt "$here/package-lock.json" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "npm is needed for the map size benchmark's mapshaper (apt-get install npm)" >&2
  exit 1
fi
# No install scripts: mapshaper's optional native modules (GeoPackage, msgpack) are not used.
(cd "$here" && npm ci --ignore-scripts --no-audit --no-fund --silent)
touch "$stamp"
echo "mapshaper $("$here/node_modules/.bin/mapshaper" -v) for the map size benchmark in $here/node_modules"
