#!/bin/sh
# Installs the Debian packages the test suite talks to (real FTP servers,
# real fonts, real photos, libtiff's tools, openssl for test certificates, Ceph's S3 gateway, Chromium,
# and emscripten with libjpeg-turbo's Debian source and MozJPEG's source from its npm package to rebuild
# workers/codecs/*.wasm), only those missing.
set -eu
need=""
for pkg in vsftpd python3-pyftpdlib python3-openssl openssl fonts-dejavu-core mate-backgrounds \
  imagemagick libtiff-tools libavif-bin libheif-examples webp icc-profiles-free colord-data gnome-backgrounds libgs-common postgresql \
  radosgw ceph-mon ceph-osd chromium emscripten cmake make dpkg-dev libjpeg-turbo-progs; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need="$need $pkg"
done
# The PostgreSQL cluster the journal tests share (test/fixtures/postgres.ts)
# is started once per run: the previous run's is stopped and removed here.
pg_dir=/tmp/imgserve-test-postgres
if [ -f "$pg_dir/data/postmaster.pid" ]; then
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
  else /usr/lib/postgresql/15/bin/pg_ctl -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true; fi
fi
rm -rf "$pg_dir"
# Likewise the S3 gateway's cluster (test/fixtures/rgw.ts): its daemons are
# stopped by their pid files and its in-memory storage goes with them.
rgw_dir=/tmp/imgserve-test-rgw
for pid_file in "$rgw_dir"/run/*.pid; do
  [ -f "$pid_file" ] && kill -9 "$(cat "$pid_file")" 2>/dev/null || true
done
rm -rf "$rgw_dir"
# ProFTPD with mod_tls (proftpd-core, proftpd-mod-crypto) conflicts with vsftpd
# as a package, so it is unpacked into a folder of its own, with its libraries.
proftpd_dir=/opt/imgserve-test/proftpd
proftpd=""
[ -x /usr/sbin/proftpd ] || [ -x "$proftpd_dir/usr/sbin/proftpd" ] || proftpd="proftpd-core proftpd-mod-crypto"
# libjpeg-turbo's source as Debian ships it, which the committed wasm is built from (test/workers/codecs/).
jpeg_src=/opt/imgserve-test/src
jpeg_source=""
[ -d "$jpeg_src/libjpeg-turbo-2.1.5" ] || jpeg_source="libjpeg-turbo=1:2.1.5-2"
# MozJPEG 3.2's source as the npm package mozjpeg@8.0.0 carries it, which workers/codecs/mozjpeg.wasm is built from.
mozjpeg_tar_sha256=8aecc1ecad447a73ae01b9a546e99142345e5a92838d84af425f2b19202e7b73
if [ ! -f "$jpeg_src/mozjpeg/jcdctmgr.c" ]; then
  pack=$(mktemp -d)
  (cd "$pack" && npm pack -q mozjpeg@8.0.0 >/dev/null && tar xzf mozjpeg-8.0.0.tgz package/vendor/source/mozjpeg.tar.gz)
  echo "$mozjpeg_tar_sha256  $pack/package/vendor/source/mozjpeg.tar.gz" | sha256sum -c --quiet
  [ "$(id -u)" -eq 0 ] && maybe_sudo="" || maybe_sudo="sudo"
  $maybe_sudo mkdir -p "$jpeg_src"
  $maybe_sudo tar xzf "$pack/package/vendor/source/mozjpeg.tar.gz" -C "$jpeg_src"
  rm -rf "$pack"
fi
[ -z "$need$proftpd$jpeg_source" ] && exit 0
echo "test setup: installing$need${proftpd:+ (unpacking $proftpd)}${jpeg_source:+ (source $jpeg_source)}"
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
  echo "test setup: need root (or sudo) to install:$need $proftpd $jpeg_source" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
sources=/etc/apt/sources.list.d/debian.sources
if [ -n "$jpeg_source" ] && [ -f "$sources" ] && ! grep -q '^Types:.*deb-src' "$sources"; then
  $sudo sed -i 's/^Types: deb$/Types: deb deb-src/' "$sources"
fi
$sudo apt-get update -qq
[ -z "$need" ] || $sudo apt-get install -y -qq --no-install-recommends $need >/dev/null
if [ -n "$jpeg_source" ]; then
  $sudo mkdir -p "$jpeg_src"
  $sudo sh -c "cd '$jpeg_src' && apt-get source -qq '$jpeg_source' >/dev/null 2>&1"
fi
[ -z "$proftpd" ] && exit 0
debs=$(mktemp -d)
(cd "$debs" && apt-get download -qq $proftpd)
libs=$(for deb in "$debs"/*.deb; do dpkg-deb -f "$deb" Depends; done |
  tr ',' '\n' | sed 's/(.*)//; s/|.*//; s/ //g' | grep -v '^proftpd' | sort -u)
$sudo apt-get install -y -qq --no-install-recommends $libs >/dev/null
$sudo mkdir -p "$proftpd_dir"
for deb in "$debs"/*.deb; do $sudo dpkg-deb -x "$deb" "$proftpd_dir"; done
rm -rf "$debs"
