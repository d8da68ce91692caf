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
# Rust: Debian 13's cargo/rustc (1.85) are new enough; Debian 12's are not.
if ! command -v cargo >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends cargo rustc || true
fi
# make test runs clippy and rustfmt: Debian packages them apart from cargo.
for tool in clippy:rust-clippy fmt:rustfmt; do
  if ! cargo "${tool%%:*}" --version >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${tool##*:}" || true
  fi
done
need="1.82"
have=$(rustc --version 2>/dev/null | awk '{print $2}')
if [ -z "$have" ] || [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -n1)" != "$need" ]; then
  echo "Rust >= $need is needed (found: ${have:-none}); install it with rustup (https://rustup.rs), then run make again" >&2
  exit 1
fi
