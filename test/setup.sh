#!/bin/sh
# Installs the Debian packages the test suite talks to (real FTP servers,
# real fonts, real photos, openssl for test certificates), only those missing.
set -eu
need=""
for pkg in vsftpd python3-pyftpdlib python3-openssl openssl fonts-dejavu-core mate-backgrounds \
  imagemagick libavif-bin webp icc-profiles-free colord-data gnome-backgrounds libgs-common; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need="$need $pkg"
done
[ -z "$need" ] && exit 0
echo "test setup: installing$need"
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
  echo "test setup: need root (or sudo) to install:$need" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends $need >/dev/null
