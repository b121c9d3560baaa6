#!/usr/bin/env bash
# Renders an HTML page (seqrec report's) to a PNG with headless Chromium, as a reader's browser
# would show it, nothing fetched from a network. Usage: scripts/screenshot.sh PAGE.html OUT.png [WIDTH [HEIGHT]]
# Needs Debian's chromium (apt-get install chromium).
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: scripts/screenshot.sh PAGE.html OUT.png [WIDTH [HEIGHT]]" >&2; exit 2; }
page=$(realpath "$1")
out=$(realpath -m "$2")
command -v chromium > /dev/null || { echo "screenshot: chromium is not installed (Debian: apt-get install chromium)" >&2; exit 1; }
[ -f "$page" ] || { echo "screenshot: $1: no such file" >&2; exit 1; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
# A private profile, no sandbox (root in a container), no GPU; chromium's D-Bus complaints are noise.
timeout 120 chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$profile" \
  --window-size="${3:-1280},${4:-2000}" --screenshot="$out.tmp.png" "file://$page" > /dev/null 2>&1
[ -s "$out.tmp.png" ] || { echo "screenshot: chromium wrote no image of $1" >&2; exit 1; }
mv "$out.tmp.png" "$out"
echo "wrote $out"
