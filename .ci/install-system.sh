#!/usr/bin/env bash
# Debian packages the tests need: Chromium (renderer e2e, WebGPU on SwiftShader), Mesa's lavapipe
# from bookworm-backports (Dawn refuses stock Mesa 22's lavapipe) for Node WebGPU, Xvfb for windows.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
src=/etc/apt/sources.list.d/debian.sources
if [ -f "$src" ] && ! grep -q 'bookworm-backports' "$src"; then
  sed -i 's/^Suites: bookworm bookworm-updates$/Suites: bookworm bookworm-updates bookworm-backports/' "$src"
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-liberation xvfb libegl1 libgles2 libvulkan1 >/dev/null
apt-get install -y -qq --no-install-recommends -t bookworm-backports mesa-vulkan-drivers >/dev/null
