#!/usr/bin/env bash
# Builds and runs one libFuzzer target (Swift's -sanitize=fuzzer,address) for SECONDS seconds.
#
#   scripts/fuzz.sh png|jpeg|yaml|shard|shard-fields|checkpoint SECONDS [libFuzzer flags...]
#   scripts/fuzz.sh all SECONDS            # each target in turn
#
# shard-fields writes well-formed HDF5 shards whose contents the input chooses (dtypes, ranks,
# counts, labels, attributes), so ShardDataset's own checks are fuzzed past libhdf5's parser.
# The target sources are Fuzz/Targets/<target>.swift; each is compiled with only the module
# sources it needs (IFERIO, IFERTensor, Yams + libyaml, a few IFERData / IFERCheckpoint files),
# straight with swiftc into .build-fuzz/ (not SwiftPM: the `ifer` executable's main would clash
# with libFuzzer's). The seed corpus is Fuzz/corpus/<target> (real files, small, committed); new
# inputs found go to .build-fuzz/<target>/corpus, crashes to .build-fuzz/<target>/crash-*.
# Exits non-zero when libFuzzer finds a crash, a leak, an out-of-memory (> 2 GB RSS) or a
# timeout (> 10 s for one input). Needs the SwiftPM checkout of Yams (.build/checkouts/Yams,
# present after `swift build`) for the yaml target.
#
# Known (Dec 2026): the shard and checkpoint targets hand raw bytes to the system libhdf5 (1.10.8,
# not instrumented). It looped forever on a global heap collection with a zero-size free-space
# object (now refused before HDF5 opens a file: Sources/IFERIO/HDF5Guard.swift), and it reads out
# of bounds in its object-header decoder on some crafted files (Fuzz/libhdf5-findings/; HDF5 2.0
# refuses the same file cleanly). The product never opens unverified bytes with HDF5 (shards:
# SHA-256 from the manifest; checkpoints: the sidecar), so these need a crafted file with a
# matching hash. To count runs past such libhdf5 crashes: add -fork=1 -ignore_crashes=1.
# Only our own code is instrumented for coverage; crashes inside libpng / libjpeg-turbo / libhdf5
# are still caught (signals), their memory errors only when they fault.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh png|jpeg|yaml|shard|checkpoint|all SECONDS [libFuzzer flags]}
seconds=${2:-10}
shift $(( $# >= 2 ? 2 : $# ))

if [ "$target" = all ]; then
  for t in png jpeg yaml shard-fields shard checkpoint; do "$0" "$t" "$seconds" "$@"; done
  exit 0
fi

root=$(pwd)
out=.build-fuzz
mkdir -p "$out/$target/corpus"
san="-sanitize=fuzzer,address"
swiftc_flags=(-O -parse-as-library -swift-version 5 -D SWIFT_PACKAGE -module-cache-path "$root/$out/module-cache" -I "$root/$out/modules")
# The C libraries, as Package.swift declares them (system-library module maps + pkg-config).
c_flags=(-I Sources/CHDF5 -I Sources/CPNG -I Sources/CTurboJPEG -I Sources/CBLAS)
for f in $(pkg-config --cflags-only-I hdf5-serial libpng16 libturbojpeg openblas); do c_flags+=(-Xcc "$f"); done
link_flags=()
for f in $(pkg-config --libs hdf5-serial libpng16 libturbojpeg openblas); do link_flags+=("$f"); done
mkdir -p "$out/modules"
# IFERIO's SHA-256 is apple/swift-crypto: its modules and objects come from the release build
# (`swift build -c release`, run first by scripts/setup.sh), linked uninstrumented.
crypto=.build/checkouts/swift-crypto/Sources
[ -d .build/release/Modules ] && [ -d "$crypto" ] || { echo "fuzz: run scripts/setup.sh (swift build -c release) first" >&2; exit 1; }
swiftc_flags+=(-I "$root/.build/release/Modules")
for m in CCryptoBoringSSL CCryptoBoringSSLShims; do
  c_flags+=(-Xcc "-fmodule-map-file=$root/$crypto/$m/include/module.modulemap" -Xcc -I -Xcc "$root/$crypto/$m/include")
done
while IFS= read -r o; do link_flags+=("$o"); done < <(find .build/release/Crypto.build .build/release/CryptoBoringWrapper.build \
  .build/release/CCryptoBoringSSL.build .build/release/CCryptoBoringSSLShims.build -name '*.o' | sort)

# module NAME SOURCES...: a static library plus its .swiftmodule, rebuilt when a source is newer.
module() {
  local name=$1; shift
  local lib="$out/modules/lib$name.a"
  if [ -f "$lib" ] && [ -z "$(find "$@" -newer "$lib" 2>/dev/null)" ]; then return; fi
  echo "fuzz: building module $name"
  swiftc "${swiftc_flags[@]}" "${c_flags[@]}" "$san" -module-name "$name" -emit-module -emit-module-path "$out/modules/$name.swiftmodule" \
    -emit-library -static -o "$lib" "$@"
}

yams=.build/checkouts/Yams/Sources
extra=()
max_len=65536  # bytes per input; the seeds are smaller, configs much smaller
[ "$target" = yaml ] && max_len=8192
case "$target" in
  png | jpeg)
    sources=(Sources/IFERIO/*.swift) ;;
  yaml)
    [ -d "$yams/Yams" ] || { echo "fuzz: $yams missing; run swift build once first" >&2; exit 1; }
    mkdir -p "$out/cyaml"
    for c in "$yams"/CYaml/src/*.c; do
      o="$out/cyaml/$(basename "$c" .c).o"
      [ -f "$o" ] && [ "$o" -nt "$c" ] || clang -O1 -fsanitize=fuzzer-no-link,address -I "$yams/CYaml/include" -c "$c" -o "$o"
    done
    c_flags+=(-Xcc "-fmodule-map-file=$yams/CYaml/include/module.modulemap" -Xcc -I -Xcc "$yams/CYaml/include")
    module Yams "$yams"/Yams/*.swift
    sources=(Sources/IFERConfig/*.swift)
    extra=("$out/modules/libYams.a" "$out"/cyaml/*.o) ;;
  shard | shard-fields)
    module IFERIO Sources/IFERIO/*.swift
    sources=(Sources/IFERData/Loader/ShardDataset.swift Sources/IFERData/Shard/Manifest.swift Sources/IFERData/Layouts/DataError.swift
             Sources/IFERData/Layouts/SourceItem.swift)
    extra=("$out/modules/libIFERIO.a") ;;
  checkpoint)
    module IFERIO Sources/IFERIO/*.swift
    module IFERTensor Sources/IFERTensor/*.swift Sources/IFERTensor/Ops/*.swift
    sources=(Sources/IFERCheckpoint/CheckpointReader.swift Sources/IFERCheckpoint/CheckpointFormat.swift Sources/IFERCheckpoint/CheckpointState.swift
             Sources/IFERCheckpoint/CheckpointWriter.swift Sources/IFERCheckpoint/Durable.swift Sources/IFERCheckpoint/Checksums.swift
             Sources/IFERCheckpoint/FaultInjection.swift)
    extra=("$out/modules/libIFERIO.a" "$out/modules/libIFERTensor.a") ;;
  *) echo "fuzz: unknown target '$target' (png, jpeg, yaml, shard, shard-fields, checkpoint, all)" >&2; exit 2 ;;
esac

bin="$out/$target/fuzz-$target"
all_sources=("${sources[@]}" "Fuzz/Targets/$target.swift")
if [ ! -x "$bin" ] || [ -n "$(find "${all_sources[@]}" "$out/modules" -newer "$bin" 2>/dev/null)" ]; then
  echo "fuzz: building $bin"
  swiftc "${swiftc_flags[@]}" "${c_flags[@]}" "$san" -module-name "Fuzz_${target//-/_}" -o "$bin" "${all_sources[@]}" "${extra[@]}" "${link_flags[@]}"
fi

echo "fuzz: running $target for $seconds s (seeds: Fuzz/corpus/$target)"
# Leak detection off: libhdf5 and libyaml keep global caches until exit that LSan reports as leaks.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1} \
  "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len="$max_len" -print_final_stats=1 \
  -artifact_prefix="$out/$target/" "$@" "$out/$target/corpus" $([ -d "Fuzz/corpus/$target" ] && echo "Fuzz/corpus/$target")
