#!/usr/bin/env bash
# Builds Teardown's Linux package from a finished build (installer/target/teardown.jar):
#   teardown_<version>_<arch>.deb in packaging/target/
# with a runtime made by jlink (only the modules in packaging/runtime-modules), the command as
# /usr/bin/teardown, the jar, the Linux layer and JNA's own library in /usr/lib/teardown (the
# layer at the fixed path /usr/lib/teardown/libteardown_preload.so), and the recorder's systemd
# unit, shipped disabled. Usage: build-deb.sh [OUTPUT_DIR]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
jar="$root/installer/target/teardown.jar"
out="${1:-$root/packaging/target}"
[ -f "$jar" ] || { echo "build-deb: $jar is missing: build first (mvn -B install -DskipTests)" >&2; exit 2; }

case "$(uname -m)" in
  x86_64) arch=amd64 native=linux-x86-64 ;;
  aarch64) arch=arm64 native=linux-aarch64 ;;
  *) echo "build-deb: no Linux layer is built for $(uname -m)" >&2; exit 2 ;;
esac

# The version, from the one place it is set (the parent POM), as the build wrote it into the jar.
version="$(unzip -p "$jar" dev/teardown/admin/build.properties | sed -n 's/^version=//p' | tr -d '\r')"
[ -n "$version" ] || { echo "build-deb: $jar carries no version" >&2; exit 2; }
# Debian orders 0.1.0~SNAPSHOT before 0.1.0: a snapshot is older than its release.
deb_version="${version/-/\~}"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
lib="$stage/usr/lib/teardown"
mkdir -p "$lib" "$stage/usr/bin" "$stage/lib/systemd/system" "$stage/usr/share/doc/teardown" "$stage/DEBIAN"

jlink --add-modules "$(paste -sd, "$root/packaging/runtime-modules")" --strip-debug --no-man-pages \
  --no-header-files --compress=2 --output "$lib/runtime"
install -m 0644 "$jar" "$lib/teardown.jar"
unzip -p "$jar" "$native/libteardown_preload.so" > "$lib/libteardown_preload.so"
unzip -p "$jar" "$native/libteardown.so" > "$lib/libteardown.so"
unzip -p "$jar" "com/sun/jna/$native/libjnidispatch.so" > "$lib/libjnidispatch.so"
chmod 0644 "$lib"/*.so

# The command: the runtime beside it, wherever the package's files are (a scratch root too).
cat > "$stage/usr/bin/teardown" <<'LAUNCHER'
#!/bin/sh
# Teardown's command, from the teardown package.
here="$(dirname "$(readlink -f "$0")")"
lib="$here/../lib/teardown"
exec "$lib/runtime/bin/java" -Xshare:auto -jar "$lib/teardown.jar" "$@"
LAUNCHER
chmod 0755 "$stage/usr/bin/teardown"

cat > "$stage/lib/systemd/system/teardown-recorder.service" <<'UNIT'
[Unit]
Description=Teardown recorder: the history of how every connection ended
Documentation=file:///usr/share/doc/teardown/README.md
After=local-fs.target

[Service]
Type=simple
ExecStart=/usr/bin/teardown record --db /var/lib/teardown/history.db
KillSignal=SIGTERM
# A JVM stopped by SIGTERM exits with 143 once the recorder has committed.
SuccessExitStatus=143
TimeoutStopSec=20
Restart=on-failure
RestartSec=5

[Install]
WantedBy=multi-user.target
UNIT
chmod 0644 "$stage/lib/systemd/system/teardown-recorder.service"

install -m 0644 "$root/README.md" "$stage/usr/share/doc/teardown/README.md"
cat > "$stage/usr/share/doc/teardown/copyright" <<'COPYRIGHT'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: teardown

Files: *
Copyright: the Teardown authors
License: none-granted
 No licence has been granted yet; see the project's repository.
COPYRIGHT
[ -f "$root/LICENSE" ] && install -m 0644 "$root/LICENSE" "$stage/usr/share/doc/teardown/LICENSE"

installed_kb="$(du -sk --exclude=DEBIAN "$stage" | cut -f1)"
cat > "$stage/DEBIAN/control" <<CONTROL
Package: teardown
Version: $deb_version
Architecture: $arch
Maintainer: Teardown developers <teardown@localhost>
Installed-Size: $installed_kb
Depends: libc6 (>= 2.31)
Section: net
Priority: optional
Description: see and shape how network connections end
 Teardown records every TCP teardown its layer sees: local shutdown, graceful
 and abortive closes, disconnect data, and the peer's FIN or reset, and says
 for each connection who ended it, whether by FIN or RST, and why.
 .
 This package holds the teardown command with its own Java runtime, the Linux
 layer (/usr/lib/teardown/libteardown_preload.so, used by "teardown run" or
 LD_PRELOAD) and the recorder's systemd unit (teardown-recorder, disabled).
CONTROL

# Maintainer scripts honour DPKG_ROOT, so that the package installs into a scratch root too.
cat > "$stage/DEBIAN/postinst" <<'SCRIPT'
#!/bin/sh
set -e
if [ "$1" = configure ] && [ -z "${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || true
fi
exit 0
SCRIPT
cat > "$stage/DEBIAN/prerm" <<'SCRIPT'
#!/bin/sh
set -e
# Stop the recorder, and take the layer out of /etc/ld.so.preload: a preload entry naming a file
# that is gone makes the loader complain in every program started after.
if [ "$1" = remove ] || [ "$1" = deconfigure ]; then
  if [ -z "${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ]; then
    systemctl disable --now teardown-recorder.service >/dev/null 2>&1 || true
  fi
  preload="${DPKG_ROOT:-}/etc/ld.so.preload"
  if [ -f "$preload" ] && grep -q '/usr/lib/teardown/libteardown_preload\.so' "$preload"; then
    sed -i '\#/usr/lib/teardown/libteardown_preload\.so#d' "$preload"
    [ -s "$preload" ] || rm -f "$preload"
  fi
fi
exit 0
SCRIPT
cat > "$stage/DEBIAN/postrm" <<'SCRIPT'
#!/bin/sh
set -e
# Purging removes the system history too; removing keeps it.
if [ "$1" = purge ]; then
  rm -rf "${DPKG_ROOT:-}/var/lib/teardown"
fi
if [ -z "${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || true
fi
exit 0
SCRIPT
chmod 0755 "$stage/DEBIAN/postinst" "$stage/DEBIAN/prerm" "$stage/DEBIAN/postrm"

mkdir -p "$out"
deb="$out/teardown_${deb_version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
