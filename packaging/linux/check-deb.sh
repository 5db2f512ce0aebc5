#!/usr/bin/env bash
# The Linux package's install, use and remove cycle, into a scratch root (dpkg --root, the
# maintainer scripts run outside a chroot with DPKG_ROOT set), so that it runs on any Debian or
# Ubuntu machine without touching the system's own packages:
#   install; `teardown init`, `teardown run -- curl` against a loopback server, `teardown status`
#   and `teardown watch` from the installed command; `teardown --version` names the package's
#   version; nothing unpacked into the user's cache; then purge, and nothing of it is left.
# Usage: check-deb.sh PACKAGE.deb   (as root)
set -euo pipefail

deb="$(readlink -f "${1:?usage: check-deb.sh PACKAGE.deb}")"
[ "$(id -u)" = 0 ] || { echo "check-deb: dpkg --root needs root" >&2; exit 2; }
scratch="$(mktemp -d)"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT
fail() { echo "check-deb: FAILED: $*" >&2; exit 1; }

root="$scratch/root"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/etc"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
dpkg_in_root() {
  dpkg --root="$root" --force-script-chrootless --force-not-root --force-depends \
    --log=/dev/null "$@"
}

dpkg_in_root -i "$deb" > "$scratch/dpkg-install.log" 2>&1 || { cat "$scratch/dpkg-install.log"; fail "dpkg -i"; }
teardown="$root/usr/bin/teardown"
[ -x "$teardown" ] || fail "no $teardown"
[ -f "$root/usr/lib/teardown/libteardown_preload.so" ] || fail "the layer is not at its fixed path"
[ -f "$root/lib/systemd/system/teardown-recorder.service" ] || fail "no systemd unit"

version="$(dpkg-deb -f "$deb" Version)"
printed="$("$teardown" --version)"
case "$printed" in
  "teardown ${version/\~/-} (commit "*) ;;
  *) fail "teardown --version says \"$printed\", the package is $version" ;;
esac

# A user's session: their own cache (the layer must not be unpacked into it), a channel, and a
# loopback server for curl to talk to.
export XDG_CACHE_HOME="$scratch/cache" HOME="$scratch/home"
mkdir -p "$XDG_CACHE_HOME" "$HOME"
channel="$scratch/channel"
"$teardown" init --channel "$channel" > "$scratch/init.log" 2>&1 || { cat "$scratch/init.log"; fail "teardown init"; }
python3 -m http.server 0 --bind 127.0.0.1 --directory "$scratch" > "$scratch/server.log" 2>&1 &
server_pid=$!
port=""
for _ in $(seq 1 100); do
  port="$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$scratch/server.log" | head -1)"
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || fail "the loopback server did not start"
"$teardown" run --channel "$channel" -- curl -sS -o /dev/null "http://127.0.0.1:$port/" \
  || fail "teardown run -- curl"
status="$("$teardown" status --channel "$channel" --json)" || fail "teardown status"
echo "$status" | grep -q '"ready":true' || fail "status: $status"
echo "$status" | grep -q '"produced":0,' && fail "curl's connection was not recorded: $status"
"$teardown" watch --channel "$channel" --from-oldest --json --count 1 --duration 10s \
  > "$scratch/watch.log" 2>&1 || { cat "$scratch/watch.log"; fail "teardown watch"; }
grep -q '"process":"curl"' "$scratch/watch.log" || fail "no event of curl: $(cat "$scratch/watch.log")"
[ -z "$(find "$XDG_CACHE_HOME" -type f)" ] || fail "files unpacked into the user's cache: $(find "$XDG_CACHE_HOME" -type f)"

# Added to /etc/ld.so.preload by an administrator, the layer is taken out again on removal.
echo "/usr/lib/teardown/libteardown_preload.so" > "$root/etc/ld.so.preload"
dpkg_in_root --purge teardown > "$scratch/dpkg-purge.log" 2>&1 || { cat "$scratch/dpkg-purge.log"; fail "dpkg --purge"; }
left="$(cd "$root" && find . -mindepth 1 -not -path './var/lib/dpkg' -not -path './var/lib/dpkg/*' \
  -not -path './var' -not -path './var/lib' -not -path './etc' | sort)"
[ -z "$left" ] || fail "left behind after purge: $left"
echo "check-deb: $(basename "$deb") installed, ran (init, run -- curl, status, watch) and purged without a trace"
