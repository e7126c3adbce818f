#!/usr/bin/env bash
# Formats the C++ tree with the root .clang-format, or checks it (--check: lists the files that
# differ, exits non-zero). scripts/test.sh runs the check before it builds.
#   scripts/format.sh           format src/, tests/ and fuzz/ in place
#   scripts/format.sh --check   fail if any file is not as clang-format writes it
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find src tests fuzz -type f \( -name '*.cpp' -o -name '*.h' \) | sort)
if [[ "${1:-}" == --check ]]; then
  bad=()
  for f in "${files[@]}"; do
    clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
  done
  if ((${#bad[@]})); then
    echo "format: ${#bad[@]} file(s) differ from .clang-format (run scripts/format.sh): ${bad[*]}" >&2
    exit 1
  fi
  echo "format: ${#files[@]} files as .clang-format writes them" >&2
else
  clang-format -i "${files[@]}"
fi
