#!/bin/sh
# Installs what building and testing libmif needs on Debian, only when missing.
# Never installs resolvconf/openresolv: they rewire the machine's resolver config.
set -eu
PKGS="build-essential pkg-config iproute2 nftables dnsmasq-base radvd busybox dhcpcd-base
      bind9-dnsutils valgrind libc-ares-dev python3 g++ util-linux procps"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing:$missing"
  $SUDO apt-get update
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo not found: install Rust >= 1.82 (https://rustup.rs), then run make again" >&2
  exit 1
fi
