# Sourced by the ensure-*.sh scripts that only need Debian packages installed.
#
#   ensure_apt_packages NAME PRESENT WHY PKG...
#
# Returns at once when the command PRESENT succeeds. Otherwise, as root with apt, it
# installs PKG... non-interactively, one caller at a time (two apt runs would fight over
# dpkg's lock), and checks PRESENT again; without root or apt it prints one line saying
# what to do and fails. NAME names the messages and the lock; WHY says who needs it.
ensure_apt_packages() {
  local name=$1 present=$2 why=$3
  shift 3
  "$present" && return 0
  [[ $(id -u) -eq 0 ]] || _apt_ensure_die "$name" "$* missing: run 'sudo apt-get install -y $*' ($why)."
  command -v apt-get >/dev/null 2>&1 || _apt_ensure_die "$name" "$* missing and there is no apt-get: install them yourself ($why)."

  local lock=/var/run/berth-$name.lock
  exec 9>"$lock"
  flock -w 900 9 || _apt_ensure_die "$name" "could not take $lock"
  if ! "$present"; then
    echo "$name: installing Debian's $* with apt..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confold \
      install -y -qq --no-install-recommends "$@" >/dev/null
    "$present" || _apt_ensure_die "$name" "apt installed $*, but it is still missing."
    echo "$name: installed $*" >&2
  fi
  exec 9>&-
}

_apt_ensure_die() {
  echo "$1: $2" >&2
  exit 1
}
