#!/usr/bin/env bash
# Fetch Leaflet's JavaScript and CSS from the npm registry for offline (inline) maps.
# Nothing is committed: the files go to $LOCALITYGEO_MAP_ASSETS
# (default ~/.cache/localitygeo/map-assets).
set -euo pipefail
dest=${LOCALITYGEO_MAP_ASSETS:-$HOME/.cache/localitygeo/map-assets}
version=1.9.4
if [ -f "$dest/leaflet.js" ] && [ -f "$dest/leaflet.css" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "npm is needed once to fetch Leaflet for offline maps (apt-get install npm)" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack "leaflet@$version" --silent >/dev/null && tar -xzf "leaflet-$version.tgz")
mkdir -p "$dest"
cp "$work/package/dist/leaflet.js" "$work/package/dist/leaflet.css" "$dest/"
cp "$work/package/LICENSE" "$dest/LEAFLET-LICENSE"
echo "Leaflet $version for offline maps in $dest"
