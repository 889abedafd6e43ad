#!/usr/bin/env bash
# The main job on the example city: validate it and show what does not nest.
# Usage: scripts/demo.sh BIN   (BIN: the virtualenv's bin folder)
set -euo pipefail
bin=${1:-.venv/bin}
set +e
"$bin/localitygeo" validate boundaries/example-city
rc=$?
set -e
# Exit 1 means "validation found errors", which the example is built to show.
if [ "$rc" -gt 1 ]; then
  exit "$rc"
fi
echo
echo "The example city's neighbourhoods were drawn before a ward review: the not-nested"
echo "lines above are the neighbourhoods that straddle ward boundaries."
