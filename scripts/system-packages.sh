#!/usr/bin/env bash
# Install the Debian packages supervm needs, only those missing; safe to run again.
set -euo pipefail

# chromium: the browser tests drive Debian's build through Playwright (never `playwright install`).
packages=(g++ make chromium fonts-dejavu-core)

missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing system packages: ${missing[*]}"
sudo=()
[ "$(id -u)" -ne 0 ] && sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
