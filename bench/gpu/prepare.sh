#!/usr/bin/env bash
# Builds what bench/gpu/run.sh needs on the GPU machine, here (with the package registries, no GPU): a stripped
# `--features vulkan` mixlab and the Vulkan loader (Debian's libvulkan1), packed into
# target/gpu-carry/bundle.tar.xz (about 14 MiB). Pass `target/gpu-carry` as the carried path. The tree that
# travels is limited to 64 MiB and the tracked files already take about 48 MiB, so no dataset travels:
# run.sh uses CIFAR-10 where the GPU machine has it ($MIXLAB_DATA/cifar10) and random CIFAR-format images
# otherwise (the throughput and agreement figures do not depend on pixel values).
set -euo pipefail
cd "$(dirname "$0")/../.."
CARRY=target/gpu-carry
STAGE=$CARRY/stage
rm -rf "$CARRY" && mkdir -p "$STAGE/bin" "$STAGE/lib"

cargo build --release -p mixlab-cli --features vulkan
strip -o "$STAGE/bin/mixlab" target/release/mixlab

# The loader only; the GPU's own Vulkan driver (NVIDIA's ICD) comes with its kernel driver.
(cd "$CARRY" && apt-get download libvulkan1 >/dev/null)
dpkg-deb -x "$CARRY"/libvulkan1_*.deb "$CARRY/deb"
cp -L "$CARRY"/deb/usr/lib/x86_64-linux-gnu/libvulkan.so.1 "$STAGE/lib/"

XZ_OPT="-9e -T2" tar -C "$STAGE" -cJf "$CARRY/bundle.tar.xz" .
rm -rf "$STAGE" "$CARRY/deb" "$CARRY"/*.deb
tree=$(git ls-files -z | xargs -0 cat | wc -c)
bundle=$(stat -c %s "$CARRY/bundle.tar.xz")
echo "bundle $((bundle / 1048576)) MiB + tracked tree $((tree / 1048576)) MiB = $(((bundle + tree) / 1048576)) MiB (limit 64)"
[ $((bundle + tree)) -le $((64 * 1048576)) ] || { echo "too large to travel" >&2; exit 1; }
