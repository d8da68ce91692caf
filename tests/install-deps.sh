#!/bin/sh
# Installs what building and testing libmif needs on Debian, only when missing; as root
# directly, otherwise through sudo. Never installs resolvconf/openresolv: they rewire the
# machine's resolver config.
set -eu
need_rust="1.82"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then $SUDO apt-get update; apt_updated=1; fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}
# version_ge A B: A >= B (dotted versions)
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

PKGS="build-essential pkg-config iproute2 nftables dnsmasq-base radvd busybox dhcpcd-base
      bind9-dnsutils valgrind libc-ares-dev libcurl4-openssl-dev python3 g++ util-linux procps groff-base
      python3-cffi libuv1-dev libglib2.0-dev"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing:$missing"
  apt_install $missing
fi

# Rust >= 1.82. Debian 13's cargo/rustc (1.85) are new enough. Debian 12's are 1.63, but
# Debian 12 also ships rustc-web/cargo-web (1.85 and newer, from bookworm and
# bookworm-security), which provide rustc and cargo: take those when the default
# packages are too old. A Rust already on PATH (rustup's, say) that is new enough is
# left alone.
rust_version() { rustc --version 2>/dev/null | awk '{print $2}'; }
have=$(rust_version)
if [ -z "$have" ] || ! version_ge "$have" "$need_rust" || ! command -v cargo >/dev/null 2>&1; then
  candidate() { apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/{print $2}' | sed 's/[+~-].*//'; }
  [ -n "$apt_updated" ] || { $SUDO apt-get update; apt_updated=1; }
  if version_ge "$(candidate rustc)" "$need_rust"; then
    echo "installing Debian's cargo and rustc ($(candidate rustc))"
    apt_install cargo rustc
  elif [ "$(candidate rustc-web)" != "" ] && [ "$(candidate rustc-web)" != "(none)" ] &&
       version_ge "$(candidate rustc-web)" "$need_rust"; then
    echo "Debian's rustc is $(candidate rustc); installing rustc-web and cargo-web ($(candidate rustc-web))"
    apt_install cargo-web rustc-web
  fi
  hash -r
fi
have=$(rust_version)
if [ -z "$have" ] || ! version_ge "$have" "$need_rust"; then
  echo "Rust >= $need_rust is needed (found: ${have:-none}); install it with rustup (https://rustup.rs), then run make again" >&2
  exit 1
fi
# make test runs clippy and rustfmt. Debian packages them apart from cargo, for its
# default rustc only: with rustc-web (Debian 12) there are none, and `make test` says
# that lint did not run (Makefile, lint).
if dpkg-query -W -f='${Status}' rustc 2>/dev/null | grep -q "install ok installed"; then
  for tool in clippy:rust-clippy fmt:rustfmt; do
    if ! cargo "${tool%%:*}" --version >/dev/null 2>&1; then
      apt_install "${tool##*:}" || true
    fi
  done
fi
