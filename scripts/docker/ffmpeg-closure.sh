#!/bin/sh
# Run inside the Dockerfile's ffmpeg stage: installs Debian's ffmpeg and copies into OUT
# (default /out) only what the ffmpeg program needs at run time: the program, every
# library it loads (ldd) that the base image lacks, each with the chain of links that
# leads to it (update-alternatives links through /etc/alternatives included), the
# fontconfig configuration, the font the test scene's clock is drawn in, and the
# copyright notice of every package those files come from.
#
# Why: Debian's ffmpeg package pulls in ~250 packages, about 500 MB (Mesa and LLVM for
# OpenGL, voices for speech synthesis, ...), most of which the program never loads or
# loads only on request (dlopen) for features Picket does not use.
set -eu
OUT=${OUT:-/out}
mkdir -p "$OUT"

find / -xdev \( -type f -o -type l \) -not -path '/proc/*' | sort >/tmp/base-files
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ffmpeg fonts-dejavu-core
rm -rf /var/lib/apt/lists/*

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
  echo /usr/bin/ffmpeg
  for lib in $(ldd /usr/bin/ffmpeg | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'); do
    chain "$(readlink -f "$(dirname "$lib")")/$(basename "$lib")"
  done
  find /etc/fonts /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf \( -type f -o -type l \)
} | sort -u | while read -r f; do grep -qxF "$f" /tmp/base-files || echo "$f"; done >/tmp/ffmpeg-files

# The copyright notices of the packages these files belong to (dpkg knows some libraries
# only by their /lib path).
for f in $(cat /tmp/ffmpeg-files); do
  dpkg-query -S "$f" 2>/dev/null || dpkg-query -S "$(echo "$f" | sed 's|^/usr/lib/|/lib/|')" 2>/dev/null || true
done | cut -d: -f1 | tr ',' '\n' | tr -d ' ' | sort -u | while read -r pkg; do
  [ -f "/usr/share/doc/$pkg/copyright" ] && echo "/usr/share/doc/$pkg/copyright"
done >>/tmp/ffmpeg-files

tar -cf - -T /tmp/ffmpeg-files 2>/dev/null | tar -xf - -C "$OUT"
echo "ffmpeg: $(wc -l </tmp/ffmpeg-files) files, $(du -sh "$OUT" | cut -f1)"
