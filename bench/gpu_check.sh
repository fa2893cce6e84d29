#!/usr/bin/env bash
# The one-call GPU check, prepared by bench/gpu_prepare.sh (wheels in .whl/, data in .gpu-data/).
#
#   bash bench/gpu_check.sh             on the GPU machine: install the wheels, extract the
#                                       data, measure (bench/gpu_check.py run); everything is
#                                       written under $OUT (default bench/results/gpu-check)
#   bash bench/gpu_check.sh --dry-run   here, no GPU needed: wheels, imports in a cut-down
#                                       environment, data, the plan; exits 0 when all is ready
#   bash bench/gpu_check.sh --smoke     here: the driver's code paths on the CPU, tiny sizes
#   --only STEPS                        (with the above) run only these driver steps, e.g. for a
#                                       second try: --only accuracy,oom
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

die() { echo "error: $*" >&2; exit 1; }

mode=gpu
driver_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) mode=dry ;;
    --smoke) mode=smoke ;;
    --only) [ $# -ge 2 ] || die "--only needs a list of steps"; driver_args+=(--only "$2"); shift ;;
    -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
    *) die "unknown option $1 (known: --dry-run, --smoke, --only STEPS)" ;;
  esac
  shift
done

# The driver's 6-minute plan counts from here, set-up included.
export HPO_CHECK_STARTED=${HPO_CHECK_STARTED:-$(date +%s.%N)}
WORK=${HPO_CHECK_WORK:-/tmp/hpo-gpu-check}
SITE=/tmp/hpo-site
ARCHIVE=.gpu-data/cifar10-jpeg.tar.gz
ARCHIVE_SHA256=b379c20532d0d7113e4257fb4fe37c05481e5a503319cd10c2de3889728c9e18
PLATFORMS=(manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux1_x86_64)

elapsed() { awk -v s="$HPO_CHECK_STARTED" -v n="$(date +%s.%N)" 'BEGIN {printf "%4.0f", n - s}'; }
say() { echo "[$(elapsed) s] $*"; }

wheels() {
  shopt -s nullglob
  WHEEL_FILES=(.whl/*.whl)
  shopt -u nullglob
  [ "${#WHEEL_FILES[@]}" -gt 0 ] || die "no wheels in .whl/: run bench/gpu_prepare.sh (and carry .whl)"
}

extract() {  # extract the archive once into $1 (reused by a second run on the same machine)
  local dest=$1
  [ -f "$ARCHIVE" ] || die "$ARCHIVE is missing: run bench/gpu_prepare.sh (and carry .gpu-data)"
  if [ ! -f "$dest/.complete" ]; then
    rm -rf "$dest"
    mkdir -p "$dest"
    timeout 120 tar xzf "$ARCHIVE" -C "$dest" || die "extracting $ARCHIVE failed"
    touch "$dest/.complete"
  fi
  [ -d "$dest/cifar10-jpeg/train" ] || die "$ARCHIVE holds no cifar10-jpeg/train/"
}

gpu_run() {
  say "machine: $(python3 --version 2>&1), $(nproc) cores"
  command -v nvidia-smi >/dev/null || die "no nvidia-smi: this is not a GPU machine (try --dry-run)"
  # Every command here is bounded too: a hung driver query must not eat the device time.
  timeout 30 nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used,utilization.gpu --format=csv \
    || echo "warning: nvidia-smi did not answer"
  timeout 60 python3 -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda, "available:", torch.cuda.is_available())' \
    || echo "warning: torch does not import: every step will fail (above)"

  wheels
  # Installed once per machine: a second run on the same (warm) machine reuses it.
  stamp=$(stat -c '%n %s %Y' "${WHEEL_FILES[@]}" | sha1sum | cut -c1-16)
  if [ "$(cat "$SITE/.stamp" 2>/dev/null)" = "$stamp" ]; then
    say "wheels: already installed in $SITE"
  else
    say "wheels: installing ${#WHEEL_FILES[@]} into $SITE"
    rm -rf "$SITE"
    # Not fatal: the throughput and syncs steps need only torch, and come first.
    if timeout 120 python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
      --disable-pip-version-check --target "$SITE" "${WHEEL_FILES[@]}"; then
      echo "$stamp" >"$SITE/.stamp"
    else
      echo "warning: pip install of .whl/ failed: the steps through hpo will fail, the others run"
    fi
  fi
  export PYTHONPATH="$REPO:$SITE${PYTHONPATH:+:$PYTHONPATH}"
  say "requirements of the shipped wheels against what is installed here"
  timeout 60 python3 bench/gpu_env.py requirements --wheels .whl --installed \
    || echo "warning: a requirement is not met (above); going on, the imports decide"
  timeout 60 python3 -c 'import optuna, sqlalchemy, alembic, mako, colorlog, cmaes, hpo.cli
from sqlalchemy.util._has_cython import _CYEXTENSION_MSG as cy
print("imports: optuna", optuna.__version__, "SQLAlchemy", sqlalchemy.__version__, "(C extensions:", cy + ")")' \
    || echo "warning: the imports above fail: the steps through hpo will fail, the others run"

  say "data: extracting $ARCHIVE into $WORK/data"
  extract "$WORK/data"
  say "driver: bench/gpu_check.py run"
  python3 bench/gpu_check.py run --data "$WORK/data/cifar10-jpeg" --out "$OUT" --work "$WORK/work" "${driver_args[@]}"
}

dry_run() {
  local py=${PYTHON:-}
  if [ -z "$py" ]; then
    if [ -x .venv/bin/python ]; then py=.venv/bin/python; else py=python3; fi
  fi
  # Global, not local: the EXIT trap runs after this function has returned.
  DRY_TMP=$(mktemp -d)
  trap 'rm -rf "$DRY_TMP"' EXIT
  local tmp=$DRY_TMP
  local checked=() unchecked=()
  echo "dry run: $py ($("$py" --version 2>&1)); no GPU used"

  say "1. wheels: install into a clean folder for CPython 3.12 manylinux x86-64, as there"
  wheels
  local platform_args=()
  for p in "${PLATFORMS[@]}"; do platform_args+=(--platform "$p"); done
  "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --disable-pip-version-check \
    --only-binary=:all: --python-version 3.12 --implementation cp "${platform_args[@]}" \
    --target "$tmp/site" "${WHEEL_FILES[@]}" || die "the wheels do not install for CPython 3.12"
  local installed=("$tmp"/site/*.dist-info)
  echo "installed: ${#installed[@]} distributions"
  checked+=("the ${#WHEEL_FILES[@]} wheels install with --no-deps on CPython 3.12 manylinux x86-64")

  say "2. requirements: each Requires-Dist met by a shipped wheel or the GPU machine"
  "$py" bench/gpu_env.py requirements --wheels .whl || die "the shipped wheels are not enough (above)"
  checked+=("every Requires-Dist of the wheels is shipped or on the GPU machine's list (or required by it)")

  say "3. imports and a tiny hpo study, with only the GPU machine's packages and the wheels visible"
  "$py" -I bench/gpu_env.py simulate --target "$tmp/site" || die "the cut-down environment fails (above)"
  checked+=("hpo create-study / worker / optuna.load_study on SQLite run with only those packages (with $("$py" --version 2>&1))")

  say "4. SQLAlchemy's cp312 C extensions"
  local py312="" candidate
  # A python3.12 on the PATH (a pyenv shim may be there without working), else pyenv's own.
  for candidate in "$(command -v python3.12 || true)" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] \
      && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null; then
      py312=$candidate
      break
    fi
  done
  if [ -n "$py312" ]; then
    # typing_extensions is SQLAlchemy's one requirement; the GPU machine has it (with torch).
    mkdir -p "$tmp/te"
    cp "$("$py" -c 'import typing_extensions as t; print(t.__file__)')" "$tmp/te/"
    "$py312" -I -c "import sys; sys.path[:0] = ['$tmp/site', '$tmp/te']
import sqlalchemy
from sqlalchemy.util._has_cython import HAS_CYEXTENSION, _CYEXTENSION_MSG
engine = sqlalchemy.create_engine('sqlite://')
with engine.connect() as c:
    assert c.execute(sqlalchemy.text('select 1')).scalar() == 1
print('SQLAlchemy', sqlalchemy.__version__, 'on', sys.version.split()[0], '- C extensions:', _CYEXTENSION_MSG)
sys.exit(0 if HAS_CYEXTENSION else 1)" || die "SQLAlchemy's cp312 extensions do not load with $py312"
    checked+=("SQLAlchemy's cp312 C extensions load and run a query with $("$py312" --version 2>&1)")
  else
    echo "no python3.12 here: the cp312 extensions are not loaded (SQLAlchemy would fall back to pure Python)"
    unchecked+=("SQLAlchemy's cp312 C extensions (no python3.12 on this machine)")
  fi

  say "5. data"
  [ -f "$ARCHIVE" ] || die "$ARCHIVE is missing: run bench/gpu_prepare.sh"
  echo "$ARCHIVE_SHA256  $ARCHIVE" | sha256sum -c --status || die "$ARCHIVE: wrong sha256 (run bench/gpu_prepare.sh again)"
  local counts
  counts=$(tar tzf "$ARCHIVE" | awk -F/ '/\.jpg$/ {n[$2]++} END {printf "%d train, %d test", n["train"], n["test"]}')
  echo "$ARCHIVE: sha256 ok, $counts images"
  [ "$counts" = "50000 train, 10000 test" ] || die "$ARCHIVE: expected 50000 train and 10000 test images"
  checked+=("the data: $ARCHIVE, sha256 and layout ($counts images)")

  say "6. the plan"
  "$py" bench/gpu_check.py plan || die "the plan does not fit its budget"
  checked+=("the plan fits 6 minutes by its own limits")

  unchecked+=("anything on the GPU: CUDA, the figures, torch/torchvision of the GPU machine (its torch 2.11 is not this one)")
  unchecked+=("the GPU machine's package versions (gpu_check.sh checks them there first, before measuring)")
  echo
  echo "dry run: ready"
  echo "checked:"
  printf '  - %s\n' "${checked[@]}"
  echo "not checked here:"
  printf '  - %s\n' "${unchecked[@]}"
}

smoke_run() {
  local py=${PYTHON:-}
  if [ -z "$py" ]; then
    if [ -x .venv/bin/python ]; then py=.venv/bin/python; else py=python3; fi
  fi
  say "smoke: the driver on the CPU with tiny sizes, with $py (its installed packages)"
  extract "$WORK-smoke/data"
  "$py" bench/gpu_check.py run --smoke --data "$WORK-smoke/data/cifar10-jpeg" --out "$OUT" \
    --work "$WORK-smoke/work" "${driver_args[@]}"
}

case "$mode" in
  dry) dry_run ;;
  smoke)
    OUT=${OUT:-$REPO/bench/results/gpu-check-smoke}
    mkdir -p "$OUT"
    smoke_run 2>&1 | tee "$OUT/console.log"
    exit "${PIPESTATUS[0]}"
    ;;
  gpu)
    OUT=${OUT:-$REPO/bench/results/gpu-check}
    mkdir -p "$OUT"
    # The console is copied into $OUT too: only files under $OUT and the console's last
    # 12,000 characters come back from the GPU machine.
    gpu_run 2>&1 | tee "$OUT/console.log"
    exit "${PIPESTATUS[0]}"
    ;;
esac
