#!/bin/sh
# Run inside the Dockerfile's ffmpeg stage (the camera image only): builds the one ffmpeg
# program the camera runs from Debian bookworm's own source package, with only the parts
# Picket uses, and puts into OUT (default /out) what the runtime stage copies onto the base:
#
#   /usr/local/bin/ffmpeg                 the program, stripped, libav* linked in statically
#   /usr/lib/<arch>/...                   the shared libraries it links that the base lacks
#                                         (libx264, libfreetype and theirs: ~3 MB), each with
#                                         its chain of links
#   /usr/share/fonts/.../DejaVuSansMono   the font of the test scene's clock
#   /usr/share/doc/*/copyright            the copyright notice of every package those come
#                                         from, ffmpeg's from its source package; and
#                                         /usr/share/doc/ffmpeg/README.picket: which source
#                                         and which configure line made the program
#
# Why: Debian's ffmpeg package pulls in ~250 packages (~500 MB: Mesa and LLVM, speech
# voices, ...), and even the program with only the ~200 libraries it links came to 229 MB.
# This program is 4.4 MB; the whole stage takes 2-3 min on 2 cores (x86-64), most of it
# compiling.
#
# TLS (https://, rtsps://) is GnuTLS, which the base already has: apt links it. libx264
# makes the program GPL (v2 or later): README.picket names the source it was built from.
#
# To add a feature (a demuxer for another camera's stream, a filter, ...): add its name to
# the list below that it belongs to (`./configure --list-demuxers` etc. in the source tree
# name them; configure adds what a component needs by itself), rebuild the camera image
# and check `docker run --rm picket-camera:local ffmpeg -hide_banner -demuxers`.
set -eu
OUT=${OUT:-/out}

# What Picket's camera asks of ffmpeg (services/camera/src/capture-command.ts, mp4-remux.ts).
# Inputs: the test scene (lavfi `color`), v4l2 webcams (raw YUYV or MJPEG), rpicam's raw
# H.264 on a pipe, files for `file:` (MP4/MOV, Matroska, FLV, raw H.264, MJPEG), network
# cameras over RTSP/RTSPS (TCP; UDP and RTP for completeness) and HTTP/HTTPS (also MJPEG
# as multipart, mpjpeg), and FLV on a pipe for the clip remux.
DEMUXERS=flv,h264,mjpeg,mpjpeg,mov,matroska,rtsp
INDEVS=lavfi,v4l2
PROTOCOLS=file,pipe,tcp,udp,rtp,http,https,tls
PARSERS=h264,mjpeg
DECODERS=h264,mjpeg,rawvideo
# Outputs: H.264 (libx264, with -x264-params) as FLV on pipes, JPEG stills (mjpeg,
# image2pipe), raw gray frames for motion (rawvideo), clips as MP4 (+faststart; the setts
# bitstream filter sets the last frame's duration); `null` for the image's own check.
ENCODERS=libx264,mjpeg,rawvideo
MUXERS=flv,image2pipe,rawvideo,mp4,null
# Bitstream filters: setts (above), null (what ffmpeg runs where none is asked for), and
# extract_extradata, with which ffmpeg takes SPS/PPS from a raw H.264 input (rpicam's pipe)
# while probing it: without it the FLV of a passed-through stream starts with an empty AVC
# configuration and the stills' decoder fails until the next keyframe.
BSFS=null,setts,extract_extradata
# The test scene's graph (color, drawbox, overlay, drawtext with localtime, split), the
# branches (fps, scale with flags=area, format), `null` for a graph without filters, and
# what ffmpeg inserts by itself to turn a rotated phone video upright (transpose, hflip,
# vflip, rotate).
FILTERS=color,drawbox,overlay,drawtext,split,fps,scale,format,null,transpose,hflip,vflip,rotate

CONFIGURE="--prefix=/usr/local --disable-everything --disable-autodetect --disable-doc --disable-debug
  --disable-shared --enable-static --disable-ffplay --disable-ffprobe --disable-postproc
  --enable-gpl --enable-pthreads --enable-zlib --enable-gnutls --enable-libx264 --enable-libfreetype
  --enable-demuxer=$DEMUXERS --enable-indev=$INDEVS --enable-protocol=$PROTOCOLS --enable-parser=$PARSERS
  --enable-decoder=$DECODERS --enable-encoder=$ENCODERS --enable-muxer=$MUXERS --enable-bsf=$BSFS
  --enable-filter=$FILTERS"

started=$(date +%s)
mkdir -p "$OUT"
find / -xdev \( -type f -o -type l \) -not -path '/proc/*' | sort >/tmp/base-files

# The compiler and the -dev packages of the libraries it links; nasm for the x86 assembly
# (arm64 assembles with gcc).
asm=
case "$(dpkg --print-architecture)" in amd64|i386) asm=nasm ;; esac
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
  gcc libc6-dev make pkgconf dpkg-dev xz-utils $asm \
  libx264-dev libfreetype-dev libgnutls28-dev zlib1g-dev fonts-dejavu-core

# Debian's source package, whatever the base's own apt sources name (a Raspberry Pi OS
# base has its own ffmpeg): a sources list of deb.debian.org's deb-src entries alone, used
# only for this download. apt checks the files against the signed Sources index; dpkg-source
# applies Debian's patches.
mkdir -p /tmp/src-apt/parts /tmp/src-apt/lists/partial /tmp/ffmpeg
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
cat >/tmp/src-apt/sources.list <<LIST
deb-src [signed-by=$keyring] http://deb.debian.org/debian bookworm main
deb-src [signed-by=$keyring] http://deb.debian.org/debian bookworm-updates main
deb-src [signed-by=$keyring] http://deb.debian.org/debian-security bookworm-security main
LIST
src_apt="-o Dir::Etc::SourceList=/tmp/src-apt/sources.list -o Dir::Etc::SourceParts=/tmp/src-apt/parts
  -o Dir::State::Lists=/tmp/src-apt/lists -o APT::Sandbox::User=root"
# shellcheck disable=SC2086
apt-get $src_apt update
# shellcheck disable=SC2086
(cd /tmp/ffmpeg && apt-get $src_apt source ffmpeg)
src=$(find /tmp/ffmpeg -mindepth 1 -maxdepth 1 -type d -name 'ffmpeg-*')
version=$(cd "$src" && dpkg-parsechangelog -S Version)
rm -rf /var/lib/apt/lists/*

cd "$src"
# shellcheck disable=SC2086
./configure $CONFIGURE >/tmp/ffmpeg-configure.log || { tail -30 ffbuild/config.log >&2; exit 1; }
make -j"$(nproc)" ffmpeg >/tmp/ffmpeg-make.log 2>&1 || { tail -40 /tmp/ffmpeg-make.log >&2; exit 1; }
install -D -m 755 -s ffmpeg "$OUT/usr/local/bin/ffmpeg"
install -D -m 644 debian/copyright "$OUT/usr/share/doc/ffmpeg/copyright"
cat >"$OUT/usr/share/doc/ffmpeg/README.picket" <<TEXT
/usr/local/bin/ffmpeg is FFmpeg built by Picket's scripts/docker/ffmpeg-build.sh from
Debian's source package ffmpeg $version (http://deb.debian.org/debian, pool/main/f/ffmpeg/,
or debian-security for a security update), with Debian's patches, configured with:

$(echo $CONFIGURE)

It links libx264, so it is under the GNU GPL version 2 or later (copyright, beside this).
TEXT

# Prints PATH and, if it is a link, every link after it down to the file.
chain() {
  f=$1
  while [ -L "$f" ]; do
    echo "$f"
    t=$(readlink "$f")
    case "$t" in /*) ;; *) t="$(dirname "$f")/$t" ;; esac
    # Each directory by its real path: /lib is a link to /usr/lib on this base.
    f="$(readlink -f "$(dirname "$t")")/$(basename "$t")"
  done
  echo "$f"
}

{
  for lib in $(ldd "$OUT/usr/local/bin/ffmpeg" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'); do
    chain "$(readlink -f "$(dirname "$lib")")/$(basename "$lib")"
  done
  echo /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf
} | sort -u | while read -r f; do grep -qxF "$f" /tmp/base-files || echo "$f"; done >/tmp/ffmpeg-files

# The copyright notices of the packages these files belong to (dpkg knows some libraries
# only by their /lib path).
for f in $(cat /tmp/ffmpeg-files); do
  dpkg-query -S "$f" 2>/dev/null || dpkg-query -S "$(echo "$f" | sed 's|^/usr/lib/|/lib/|')" 2>/dev/null || true
done | cut -d: -f1 | tr ',' '\n' | tr -d ' ' | sort -u | while read -r pkg; do
  if [ -f "/usr/share/doc/$pkg/copyright" ]; then echo "/usr/share/doc/$pkg/copyright"; fi
done >>/tmp/ffmpeg-files

tar -cf - -T /tmp/ffmpeg-files 2>/dev/null | tar -xf - -C "$OUT"
echo "ffmpeg $version: built in $(( $(date +%s) - started )) s; $(find "$OUT" -type f | wc -l) files, $(du -sh "$OUT" | cut -f1)"
