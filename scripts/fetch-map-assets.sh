#!/usr/bin/env bash
# Fetch the JavaScript and CSS that offline (inline) maps embed, from the npm registry:
# Leaflet (with its CSS's icons), and Leaflet.Sync (keeps the two panes of the change map in step).
# Nothing is committed: the files go to $LOCALITYGEO_MAP_ASSETS
# (default ~/.cache/localitygeo/map-assets).
set -euo pipefail
dest=${LOCALITYGEO_MAP_ASSETS:-$HOME/.cache/localitygeo/map-assets}
leaflet=1.9.4
sync=0.2.4
if [ -f "$dest/leaflet.js" ] && [ -f "$dest/leaflet.css" ] && [ -f "$dest/images/layers.png" ] \
  && [ -f "$dest/L.Map.Sync.js" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "npm is needed once to fetch Leaflet for offline maps (apt-get install npm)" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$dest" "$work/leaflet" "$work/sync"
(cd "$work/leaflet" && npm pack "leaflet@$leaflet" --silent >/dev/null && tar -xzf "leaflet-$leaflet.tgz")
cp "$work/leaflet/package/dist/leaflet.js" "$work/leaflet/package/dist/leaflet.css" "$dest/"
# The CSS's icons (layer control, markers), embedded as data URIs by inline saving.
rm -rf "$dest/images"
cp -r "$work/leaflet/package/dist/images" "$dest/images"
cp "$work/leaflet/package/LICENSE" "$dest/LEAFLET-LICENSE"
(cd "$work/sync" && npm pack "leaflet.sync@$sync" --silent >/dev/null && tar -xzf "leaflet.sync-$sync.tgz")
cp "$work/sync/package/L.Map.Sync.js" "$dest/"
cp "$work/sync/package/LICENSE" "$dest/LEAFLET-SYNC-LICENSE"
echo "Leaflet $leaflet and Leaflet.Sync $sync for offline maps in $dest"
