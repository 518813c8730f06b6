#!/usr/bin/env bash
# Builds an offline bundle to install smewizard on an SME v10 server (CentOS 7, glibc 2.17)
# for CPython 3.12 (e.g. the uv-managed one): every wheel is pure Python or manylinux2014.
#   scripts/build-sme-bundle.sh [OUT_DIR]     (needs PyPI access on the build machine)
# On the server:  uv tool install --offline --find-links ./wheelhouse smewizard
#            or:  python3.12 -m venv /opt/smewizard && /opt/smewizard/bin/pip install \
#                   --no-index --find-links ./wheelhouse smewizard
# With VERIFY_PYTHON=/path/to/python3.12 it also installs the bundle offline into a fresh venv
# of that Python and runs `smewizard check --json` against a simulated SME root.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-dist/sme-bundle}
PY=${PY:-python3}
rm -rf "$OUT" && mkdir -p "$OUT/wheelhouse"
"$PY" -m pip wheel -q --no-deps -w "$OUT/wheelhouse" .
# smewizard's own wheel carries the compiled log-scan loop when this machine has a C compiler: a
# cp311-abi3 build (any CPython >= 3.11). It must not need a glibc newer than CentOS 7's 2.17.
for whl in "$OUT"/wheelhouse/smewizard-*-abi3-*.whl; do
  [ -e "$whl" ] || { echo "smewizard wheel is pure Python (no C compiler here): the server scans logs with the Python loop"; break; }
  tmp=$(mktemp -d)
  "$PY" -m zipfile -e "$whl" "$tmp"
  need=$(objdump -T "$tmp"/smewizard/logs/_scan*.so | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1)
  rm -rf "$tmp"
  if [ "$(printf '%s\n2.17\n' "$need" | sort -V | tail -1)" != 2.17 ]; then
    echo "the compiled log scan needs glibc $need, newer than CentOS 7's 2.17: build with SMEWIZARD_PURE_PYTHON=1" >&2
    exit 1
  fi
  echo "compiled log scan in $(basename "$whl") needs glibc $need (CentOS 7 has 2.17)"
done
"$PY" -m pip download -q --only-binary=:all: --platform manylinux2014_x86_64 --python-version 3.12 \
  --implementation cp -d "$OUT/wheelhouse" textual dnspython cryptography pyperclip defusedxml
# pure-Python projects published as sdists only: build them into wheels here
"$PY" -m pip wheel -q --no-deps -w "$OUT/wheelhouse" pyspf dkimpy authres
ls "$OUT/wheelhouse"
if [ -n "${VERIFY_PYTHON:-}" ]; then
  venv=$(mktemp -d)
  "$VERIFY_PYTHON" -m venv "$venv"
  "$venv/bin/pip" install -q --no-index --find-links "$OUT/wheelhouse" smewizard
  root=$(mktemp -d)/root
  "$venv/bin/python" -c "import sys; from smewizard.sim import build_root; build_root(sys.argv[1], 'fresh')" "$root"
  set +e
  "$venv/bin/smewizard" check --json --root "$root" --nameserver 127.0.0.1:9 --dns-timeout 0.2 > "$venv/check.json"
  rc=$?
  set -e
  "$venv/bin/python" -c "import json,sys; d=json.load(open(sys.argv[1])); print('installed offline, check ran:', d['schema'], sorted(d['steps']))" "$venv/check.json"
  echo "check exit status: $rc (1 = findings that fail, expected on the fresh scenario)"
  rm -rf "$venv" "$(dirname "$root")"
fi
