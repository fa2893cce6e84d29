#!/usr/bin/env bash
# Prepares the one-call GPU check on a development machine (with network and ../shared), so
# that the lent GPU machine (no network, no ../shared, minutes of time) needs nothing else:
#   .whl/       the CPython 3.12 manylinux x86-64 wheels of bench/gpu_wheels.txt (what the GPU
#               machine lacks: Optuna's stack), exactly those
#   .gpu-data/  cifar10-jpeg.tar.gz, copied from $HPO_SHARED_DATA (default ../shared/data)
# Both are git-ignored: they travel as the run's `carry`. Then it checks that the tree plus
# them stays under the 64 MiB a run may carry, and prints what to send. A second run reuses
# what is there.
#
#   bash bench/gpu_prepare.sh          # then: bash bench/gpu_check.sh --dry-run
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "error: $*" >&2; exit 1; }

PYTHON=${PYTHON:-python3}
WHEELS=.whl
DATA=.gpu-data
ARCHIVE=cifar10-jpeg.tar.gz
ARCHIVE_SHA256=b379c20532d0d7113e4257fb4fe37c05481e5a503319cd10c2de3889728c9e18  # ../shared/data/README.md
SHARED=${HPO_SHARED_DATA:-../shared/data}
LIMIT=$((64 * 1024 * 1024))
# Every manylinux x86-64 tag CPython 3.12 accepts that these wheels are published under.
PLATFORMS=(manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux1_x86_64)

command -v git >/dev/null || die "git is needed (to size what travels)"
"$PYTHON" -m pip --version >/dev/null 2>&1 || die "$PYTHON has no pip (set PYTHON=...)"
mkdir -p "$WHEELS" "$DATA"
for path in "$WHEELS" "$DATA"; do
  git check-ignore -q "$path/" || die "$path is not git-ignored: it would travel as part of the tree"
done

# -- wheels --------------------------------------------------------------------------------
mapfile -t PINS < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' bench/gpu_wheels.txt | grep -v '^$')
[ "${#PINS[@]}" -gt 0 ] || die "bench/gpu_wheels.txt pins nothing"
wanted=()
platform_args=()
for p in "${PLATFORMS[@]}"; do platform_args+=(--platform "$p"); done
for pin in "${PINS[@]}"; do
  name=${pin%%==*}
  version=${pin#*==}
  [ "$name" != "$pin" ] || die "bench/gpu_wheels.txt: $pin is not NAME==VERSION"
  # Wheel file names spell the distribution lower-case (mostly) with '_' for '-' and '.'.
  stem=$(echo "$name" | tr 'A-Z.-' 'a-z__')
  found=$(find "$WHEELS" -maxdepth 1 -iname "${stem}-${version}-*.whl" | head -n 1)
  if [ -n "$found" ]; then
    echo "have  $(basename "$found")"
  else
    echo "fetch $pin"
    "$PYTHON" -m pip download -q --retries 1 --timeout 20 --disable-pip-version-check \
      --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
      "${platform_args[@]}" -d "$WHEELS" "$pin" \
      || die "pip download $pin failed (no network, or no cp312 manylinux x86-64 wheel)"
    found=$(find "$WHEELS" -maxdepth 1 -iname "${stem}-${version}-*.whl" | head -n 1)
    [ -n "$found" ] || die "pip download $pin saved no ${stem}-${version}-*.whl"
  fi
  wanted+=("$(basename "$found")")
done
# Exactly the pinned wheels travel: an old version left here would be installed there too.
for file in "$WHEELS"/*.whl; do
  name=$(basename "$file")
  if ! printf '%s\n' "${wanted[@]}" | grep -qxF "$name"; then
    echo "drop  $name (not in bench/gpu_wheels.txt)"
    rm -f "$file"
  fi
done

# -- data ----------------------------------------------------------------------------------
if [ -f "$DATA/$ARCHIVE" ] && echo "$ARCHIVE_SHA256  $DATA/$ARCHIVE" | sha256sum -c --status; then
  echo "have  $DATA/$ARCHIVE"
else
  [ -f "$SHARED/$ARCHIVE" ] || die "$SHARED/$ARCHIVE not found (set HPO_SHARED_DATA to the folder holding it)"
  echo "copy  $SHARED/$ARCHIVE"
  cp "$SHARED/$ARCHIVE" "$DATA/$ARCHIVE.tmp"
  chmod u+w "$DATA/$ARCHIVE.tmp"  # ../shared is read-only; the copy need not be
  echo "$ARCHIVE_SHA256  $DATA/$ARCHIVE.tmp" | sha256sum -c --status \
    || { rm -f "$DATA/$ARCHIVE.tmp"; die "$SHARED/$ARCHIVE: sha256 differs from ../shared/data/README.md's"; }
  mv "$DATA/$ARCHIVE.tmp" "$DATA/$ARCHIVE"
fi

# -- size of what travels ------------------------------------------------------------------
# The tree (tracked files and untracked ones git does not ignore; a deleted file travels not)
# plus the carried folders.
tree=$(git ls-files -z -co --exclude-standard | xargs -0 -r stat -c %s 2>/dev/null | awk '{s += $1} END {print s + 0}' || true)
carried=$(du -sb "$WHEELS" "$DATA" | awk '{s += $1} END {print s + 0}')
total=$((tree + carried))
mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }
[ "$total" -le "$LIMIT" ] || die "$(mib "$total") would travel, over the 64 MiB limit"

echo
echo "ready: $(mib "$total") travels of 64 MiB (tree $(mib "$tree"), $WHEELS $(mib "$(du -sb "$WHEELS" | cut -f1)"), $DATA $(mib "$(du -sb "$DATA" | cut -f1)"))"
echo "check it here first:  bash bench/gpu_check.sh --dry-run"
echo "then on the GPU machine, one run with"
echo "  carry:     [\"$WHEELS\", \"$DATA\"]"
echo "  command:   bash bench/gpu_check.sh"
echo "  timeout_s: 450 (the check keeps to 360 s, set-up included; results come back under \$OUT)"
