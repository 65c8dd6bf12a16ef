#!/usr/bin/env bash
# Build berth's test and example images locally, FROM scratch (no registry is ever used).
#
#   scripts/build-test-images.sh [--force] [httpd|app|example ...]   (default: all three)
#
#   httpd    berth-test/httpd:latest     static busybox running `httpd` on :8080
#   app      berth-test/app:latest       test/images/app/app.js on the machine's node
#   example  berth-example/hello:latest  examples/hello/app.js on the machine's node
#
# The binaries (busybox; node with the libraries `ldd` lists) are copied into a temporary
# staging directory next to a copy of the build context, never into the repository.
# Each image carries the label berth.test.content-hash: a sha256 of everything that went
# into it (this script, the context files, the binaries). When the image already has the
# label value just computed the build is skipped, so a rerun is instant.
set -euo pipefail
shopt -s inherit_errexit # a failure inside $(...) stops the script too

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HASH_LABEL=berth.test.content-hash
# Hashing the ~100 MB node binary costs ~0.3 s, so file hashes are cached by stat() here.
HASH_CACHE=$ROOT/.berth-images/file-hashes
export DOCKER_BUILDKIT=0 # the classic builder is in every engine; buildx may be absent

declare -A IMAGE=([httpd]=berth-test/httpd:latest [app]=berth-test/app:latest [example]=berth-example/hello:latest)
declare -A CONTEXT=([httpd]=test/images/httpd [app]=test/images/app [example]=examples/hello)
declare -A ROOTFS=([httpd]=busybox [app]=node [example]=node) # which stage_* fills rootfs/

say() { echo "build-test-images: $*" >&2; }
die() { say "$*"; exit 1; }

usage() { die "usage: $0 [--force] [httpd|app|example ...]"; }

# sha256 of a file. Large files (the binaries) are remembered per (path, size, mtime,
# ctime, inode), so an unchanged node binary is not re-read on every run.
file_hash() {
  local path=$1 key hash size
  size=$(stat -L -c %s "$path")
  if ((size < 1048576)); then
    sha256sum <"$path" | cut -d' ' -f1
    return
  fi
  key="$path $(stat -L -c '%s %.9Y %.9Z %i' "$path")"
  if [[ -f $HASH_CACHE ]]; then
    hash=$(awk -v k="$key" 'substr($0, 1, length(k) + 1) == k " " { print $NF; exit }' "$HASH_CACHE")
    [[ -n $hash ]] && { echo "$hash"; return; }
  fi
  hash=$(sha256sum <"$path" | cut -d' ' -f1)
  mkdir -p "$(dirname "$HASH_CACHE")"
  # Keep one line per path: drop what was remembered for an older version of the file.
  { [[ -f $HASH_CACHE ]] && awk -v p="$path " 'substr($0, 1, length(p)) != p' "$HASH_CACHE"; echo "$key $hash"; } >"$HASH_CACHE.new"
  mv "$HASH_CACHE.new" "$HASH_CACHE"
  echo "$hash"
}

# The busybox from busybox-static: it must be static to run FROM scratch.
busybox_path() {
  local bb
  bb=$(command -v busybox) || die "no busybox: install busybox-static (sudo bash scripts/ensure-docker.sh does)"
  bb=$(readlink -f "$bb")
  ! ldd "$bb" >/dev/null 2>&1 || die "$bb is dynamically linked: install busybox-static (apt-get install busybox-static)"
  echo "$bb"
}

node_path() { readlink -f "$(command -v node)"; }

# The shared objects node needs, as the absolute paths ldd prints (the loader included).
node_libs() {
  local node=$1 out
  out=$(ldd "$node")
  ! grep -q 'not found' <<<"$out" || die "ldd $node: a library is missing: $(grep 'not found' <<<"$out")"
  awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }' <<<"$out" | sort -u
}

# Sets ROOTFS_LIST to "<image-path> <host-path>" for each binary that goes into rootfs/.
# (Filled in the main shell, not in a $(...), so that a `die` on the way really stops us.)
collect_rootfs() {
  local kind=$1 node libs lib bb
  ROOTFS_LIST=()
  case $kind in
    busybox)
      bb=$(busybox_path)
      ROOTFS_LIST+=("/bin/busybox $bb")
      ;;
    node)
      node=$(node_path)
      libs=$(node_libs "$node")
      ROOTFS_LIST+=("/usr/bin/node $node")
      for lib in $libs; do ROOTFS_LIST+=("$lib $(readlink -f "$lib")"); done
      ;;
  esac
}

# The content hash: this script, every context file (path + content), every binary.
# Needs collect_rootfs first.
content_hash() {
  local ctx=$ROOT/${CONTEXT[$1]} manifest h f entry
  [[ -d $ctx ]] || die "missing build context $ctx"
  h=$(file_hash "$ROOT/scripts/build-test-images.sh")
  manifest="script $h"$'\n'
  while IFS= read -r f; do
    h=$(file_hash "$f")
    manifest+="context ${f#"$ctx"/} $h"$'\n'
  done < <(find "$ctx" -type f | LC_ALL=C sort)
  for entry in "${ROOTFS_LIST[@]}"; do
    h=$(file_hash "${entry#* }")
    manifest+="rootfs ${entry%% *} $h"$'\n'
  done
  printf '%s' "$manifest" | sha256sum | cut -d' ' -f1
}

image_label() {
  docker image inspect --format "{{ index .Config.Labels \"$HASH_LABEL\" }}" "$1" 2>/dev/null || true
}

image_id() { docker image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }

# Copy the context and the binaries into a staging directory for `docker build`.
stage() {
  local name=$1 dir=$2 entry dest
  cp -a "$ROOT/${CONTEXT[$name]}/." "$dir/"
  mkdir -p "$dir/rootfs/tmp"
  chmod 1777 "$dir/rootfs/tmp"
  for entry in "${ROOTFS_LIST[@]}"; do
    dest=$dir/rootfs${entry%% *}
    mkdir -p "$(dirname "$dest")"
    cp "${entry#* }" "$dest"
  done
  # A shell in the httpd image makes `docker exec ... sh` possible when debugging.
  [[ ${ROOTFS[$name]} == busybox ]] && ln -s busybox "$dir/rootfs/bin/sh"
  return 0
}

build_one() {
  local name=$1 image=${IMAGE[$1]} hash started dir log old_id new_id
  started=$EPOCHREALTIME
  collect_rootfs "${ROOTFS[$name]}"
  hash=$(content_hash "$name")
  if [[ $FORCE -eq 0 && $(image_label "$image") == "$hash" ]]; then
    echo "$image cached"
    return
  fi
  dir=$(mktemp -d "${TMPDIR:-/tmp}/berth-image-$name.XXXXXX")
  STAGING+=("$dir")
  log=$dir.log
  STAGING+=("$log")
  stage "$name" "$dir"
  old_id=$(image_id "$image")
  if ! docker build --label "$HASH_LABEL=$hash" -t "$image" "$dir" >"$log" 2>&1; then
    cat "$log" >&2
    die "building $image failed"
  fi
  rm -rf "$dir"
  # The previous build is now untagged; drop it unless a container still uses it.
  new_id=$(image_id "$image")
  if [[ -n $old_id && $old_id != "$new_id" ]]; then docker image rm "$old_id" >/dev/null 2>&1 || true; fi
  echo "$image built in $(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1fs", b - a }')"
}

cleanup() { ((${#STAGING[@]})) && rm -rf "${STAGING[@]}"; return 0; }

main() {
  FORCE=0
  local names=() arg
  for arg in "$@"; do
    case $arg in
      --force) FORCE=1 ;;
      all) names+=(httpd app example) ;;
      httpd | app | example) names+=("$arg") ;;
      *) usage ;;
    esac
  done
  ((${#names[@]})) || names=(httpd app example)

  bash "$ROOT/scripts/ensure-docker.sh"
  STAGING=()
  trap cleanup EXIT
  for arg in "${names[@]}"; do build_one "$arg"; done
}

main "$@"
