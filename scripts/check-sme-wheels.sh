#!/usr/bin/env bash
# Checks that smewizard and all its dependencies install on SME v10 (CentOS 7, glibc 2.17) with
# a uv-managed CPython 3.12: every dependency must exist as a pure-Python wheel/sdist or as a
# manylinux2014 (glibc 2.17) wheel, and no shared object inside may need a glibc symbol newer
# than 2.17. Needs network access to PyPI; prints what it found; exit 1 on a problem.
set -euo pipefail
PY=${PY:-python3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$PY" -m pip download -q --only-binary=:all: --platform manylinux2014_x86_64 --python-version 3.12 \
  --implementation cp -d "$out/bin" textual dnspython cryptography pyperclip defusedxml
"$PY" -m pip download -q --no-deps --no-binary=:all: -d "$out/src" pyspf dkimpy
ls "$out/bin" "$out/src"
worst=0
for whl in "$out"/bin/*.whl; do
  mkdir -p "$out/x" && rm -rf "$out/x"/* && (cd "$out/x" && "$PY" -m zipfile -e "$whl" . )
  while IFS= read -r so; do
    v=$(objdump -T "$so" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1)
    echo "$(basename "$whl"): $(basename "$so") needs glibc ${v:-none}"
    if [ -n "$v" ] && [ "$(printf '%s\n2.17\n' "$v" | sort -V | tail -1)" != "2.17" ]; then worst=1; fi
  done < <(find "$out/x" -name '*.so*' -type f)
done
[ "$worst" = 0 ] && echo "OK: every binary needs glibc <= 2.17" || { echo "FAIL: a binary needs glibc > 2.17"; exit 1; }
