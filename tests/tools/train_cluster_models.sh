#!/usr/bin/env bash
# Trains the small Static, Dynamic and Fluid models the cluster tests serve (one epoch each on
# mnist: accuracy is not the point there, behaviour under failure is).
set -euo pipefail
cli=$1
out=$2
for variant in fluid dynamic static; do
  if [[ ! -f "$out/$variant/metrics.json" ]]; then
    "$cli" train --variant "$variant" --epochs 1 --out "$out/$variant" >/dev/null
  fi
done
