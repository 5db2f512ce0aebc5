#!/usr/bin/env bash
# Teardown's benchmarks (not part of the test run): ./teardown bench
#  1. publish cost per event, one and two producers, in ns/event (best of 5 runs);
#  2. the same path in instructions per event, counted by callgrind (repeatable on any machine);
#  3. the Linux layer against no layer (run-layer-benchmarks.sh);
#  4. the Windows LSP against its base provider alone, under Wine (the SPI host's bench);
#  5. the Java drain rate in events/s, JMH (java-api/src/bench).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="$root/native-lsp/target/cmake-bench"

cmake -S "$root/native-lsp" -B "$build" -DCMAKE_BUILD_TYPE=Release -DTEARDOWN_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target teardown_bench layer_workload teardown teardown_preload --parallel 2 >/dev/null
bench="$build/bench/teardown_bench"

# Median of five runs of one path ("publish" or "decide+publish"), in ns per event per producer.
median_of_five() {
  local path="$1"
  shift
  for _ in 1 2 3 4 5; do
    "$bench" "$@" | awk -v p="$path" '$1 == p { sub("ns_per_event_per_producer=", "", $5); print $5 }'
  done | sort -n | sed -n 3p
}

echo "== publish cost, ns per event per producer (median of 5 runs of 3M events each)"
for producers in 1 2; do
  for path in publish decide+publish; do
    printf '%d producer(s), %-15s %s\n' "$producers" "$path" \
      "$(median_of_five "$path" --producers "$producers" --events 3000000)"
  done
done

echo "== publish cost, instructions/event (callgrind; difference of two runs removes start-up)"
if command -v valgrind >/dev/null 2>&1; then
  work="$(mktemp -d)"
  count_instructions() {
    valgrind --tool=callgrind --callgrind-out-file="$work/out.$1" "$bench" --producers 1 --events "$1" --slots 1024 \
      >/dev/null 2>"$work/log.$1"
    sed -n 's/^summary: \([0-9]*\).*/\1/p' "$work/out.$1"
  }
  small=$(count_instructions 10000)
  large=$(count_instructions 210000)
  # Each run publishes both paths: 2 x events.
  awk -v s="$small" -v l="$large" 'BEGIN { printf "1 producer, publish + decide+publish: %.1f instructions/event\n", (l - s) / 400000 }'
  rm -rf "$work"
else
  echo "valgrind not installed: apt-get install valgrind"
fi

"$root/native-lsp/bench/run-layer-benchmarks.sh" "$build"

echo "== Windows LSP under Wine: the base provider alone vs Teardown over it (medians of 7 rounds)"
cd "$root"
mvn -B -q -DskipTests install -pl native-lsp >/dev/null
prefix="$(mktemp -d)"
host="$root/native-lsp/target/spi-host/teardown_spi_host.exe"
WINEPREFIX="$prefix" WINEDEBUG=-all /usr/lib/wine/wine64 "$host" bench >"$prefix/bench.out" 2>&1 || true
WINEPREFIX="$prefix" /usr/lib/wine/wineserver -k 2>/dev/null || true
grep -E "ratio|FAILED" "$prefix/bench.out" || cat "$prefix/bench.out"
rm -rf "$prefix"

echo "== Java drain rate (JMH), events/s decoded into TeardownEvent objects"
cd "$root"
mvn -B -q -DskipTests install -pl native-lsp,java-api -am >/dev/null
mvn -B -q -Pbench -DskipTests verify -pl java-api -Djmh.args="DrainBenchmark -f 1 -wi 3 -i 5 -w 2s -r 3s"
