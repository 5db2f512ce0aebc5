#!/usr/bin/env bash
# Teardown's benchmarks (not part of the test run): ./teardown bench
#  1. publish cost per event, one and two producers, in ns/event (best of 5 runs);
#  2. the same path in instructions per event, counted by callgrind (repeatable on any machine);
#  3. the Java drain rate in events/s, JMH (java-api/src/bench).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="$root/native-lsp/target/cmake-bench"

cmake -S "$root/native-lsp" -B "$build" -DCMAKE_BUILD_TYPE=Release -DTEARDOWN_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target teardown_bench --parallel 2 >/dev/null
bench="$build/bench/teardown_bench"

best_of_five() {
  local best=""
  for _ in 1 2 3 4 5; do
    local ns
    ns="$("$bench" "$@" | sed -n 's/.* ns_per_event=\([0-9.]*\).*/\1/p')"
    if [ -z "$best" ] || awk -v a="$ns" -v b="$best" 'BEGIN { exit !(a < b) }'; then best="$ns"; fi
  done
  echo "$best"
}

echo "== publish cost (policy check + publish), ns/event, best of 5"
echo "1 producer:                      $(best_of_five --producers 1 --events 5000000)"
echo "2 producers at once (aggregate): $(best_of_five --producers 2 --events 5000000)"

echo "== publish cost, instructions/event (callgrind; difference of two runs removes start-up)"
if command -v valgrind >/dev/null 2>&1; then
  work="$(mktemp -d)"
  count_instructions() {
    valgrind --tool=callgrind --callgrind-out-file="$work/out.$1" "$bench" --producers 1 --events "$1" \
      >/dev/null 2>"$work/log.$1"
    sed -n 's/^summary: \([0-9]*\).*/\1/p' "$work/out.$1"
  }
  small=$(count_instructions 10000)
  large=$(count_instructions 210000)
  awk -v s="$small" -v l="$large" 'BEGIN { printf "1 producer: %.1f instructions/event\n", (l - s) / 200000 }'
  rm -rf "$work"
else
  echo "valgrind not installed: apt-get install valgrind"
fi

echo "== Java drain rate (JMH), events/s decoded into TeardownEvent objects"
cd "$root"
mvn -B -q -DskipTests install -pl native-lsp,java-api -am >/dev/null
mvn -B -q -Pbench -DskipTests verify -pl java-api -Djmh.args="DrainBenchmark -f 1 -wi 3 -i 5 -w 2s -r 3s"
