#!/usr/bin/env bash
# Real-GPU figures for the WGSL kernels (bench/gpu-device.ts) on a machine lent through the session's
# `device` tool, which has a GPU but no Node and no registry. Two steps:
#   bash scripts/gpu-device.sh pack   here: bundles the bench, packs Node, Dawn (`webgpu`) and the
#                                     Vulkan loader into .gpu/ and .gl/ (both git-ignored, carried)
#   bash scripts/gpu-device.sh run    there (carry .gpu and .gl): unpacks, points the Vulkan loader at
#                                     the NVIDIA driver, runs the bench; figures to $OUT/gpu.md, .json
#   bash scripts/gpu-device.sh doc F  here: puts the section in F (a fetched gpu.md) into docs/BENCHMARKS.md
set -uo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
pack)
  set -e
  rm -rf .gpu && mkdir -p .gpu/node_modules/webgpu/dist/linux-x64 .gl
  npx esbuild bench/gpu-device.ts --bundle --platform=node --format=esm --target=node20 --ignore-annotations \
    --external:webgpu --external:@tensorflow/tfjs-backend-wasm --external:onnxruntime-node \
    --banner:js="import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);" \
    --outfile=.gpu/bench.mjs --log-level=warning
  cp node_modules/webgpu/index.js node_modules/webgpu/package.json .gpu/node_modules/webgpu/
  xz -T2 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node >.gpu/dawn.node.xz
  xz -T2 -6 -c "$(command -v node)" >.gpu/node.xz
  # The Vulkan loader, and the GL dispatch libraries the NVIDIA driver's ICD (libGLX_nvidia) needs.
  (cd .gl && apt-get -oAPT::Architecture=amd64 download libvulkan1 libglvnd0 libglx0 libgl1 libegl1 libgles2 libopengl0)
  du -sh .gpu .gl
  ;;
run)
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
  icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  [ -f "$icd" ] && export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
  export XDG_RUNTIME_DIR=/tmp/xdg && mkdir -p -m 700 $XDG_RUNTIME_DIR
  nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu --format=csv
  export CTXLAB_GPU="$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | sed 's/, /, driver /')"
  python3 - <<'EOF'
import lzma, shutil, os
for src, dst in [('.gpu/node.xz', '/tmp/node'), ('.gpu/dawn.node.xz', '.gpu/node_modules/webgpu/dist/linux-x64/dawn.node')]:
    with lzma.open(src) as f, open(dst, 'wb') as o:
        shutil.copyfileobj(f, o)
os.chmod('/tmp/node', 0o755)
EOF
  out=${OUT:-/tmp}
  /tmp/node .gpu/bench.mjs "$out/gpu.json" "${@:2}" >"$out/gpu.md" 2> >(tee "$out/gpu.log" >&2)
  rc=$?
  cat "$out/gpu.md"
  nvidia-smi --query-gpu=clocks.sm,temperature.gpu --format=csv
  exit $rc
  ;;
doc)
  # Replaces the section with the same heading prefix, or appends it.
  node -e '
    const fs = require("fs");
    const section = fs.readFileSync(process.argv[1], "utf8").trim();
    const prefix = "## Attention kernel on a real GPU";
    const parts = fs.readFileSync("docs/BENCHMARKS.md", "utf8").trimEnd().split(/\n(?=## )/);
    const at = parts.findIndex((p) => p.startsWith(prefix));
    if (at < 0) parts.push(section); else parts[at] = section;
    fs.writeFileSync("docs/BENCHMARKS.md", parts.map((p) => p.trimEnd()).join("\n\n") + "\n");
  ' "$2"
  ;;
*)
  echo "usage: bash scripts/gpu-device.sh pack|run|doc FILE" >&2
  exit 2
  ;;
esac
