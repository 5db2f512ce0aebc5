#!/usr/bin/env bash
# Teardown's benchmarks (not part of the test run): ./teardown bench [--summary]
#  1. publish cost per event, one and two producers, in ns/event (median of 5 runs);
#  2. the same path in instructions per event, counted by callgrind (repeatable on any machine);
#  3. the Linux layer against no layer (run-layer-benchmarks.sh), in time and in instructions;
#  4. the Windows LSP against its base provider alone, under Wine (the SPI host's bench): in full
#     mode passing calls through (no channel) and recording (a channel), which tells Teardown's
#     own work from what every non-IFS layer pays, and in compatible mode recording;
#  5. the Java drain rate (objects and flyweight views) and the publication-to-listener latency.
# With --summary it ends with one line per figure, "FIGURE VALUE UNIT", for scripts.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="$root/native-lsp/target/cmake-bench"
summary=""
case "${1:-}" in
  --summary) summary="$(mktemp)" ;;
  "") ;;
  *) echo "usage: ./teardown bench [--summary]" >&2; exit 2 ;;
esac
export TEARDOWN_BENCH_FIGURES="${summary:-/dev/null}"
trap '[ -n "$summary" ] && rm -f "$summary"' EXIT
figure() {  # name value unit
  printf '%s %s %s\n' "$1" "$2" "$3" >>"$TEARDOWN_BENCH_FIGURES"
}

cmake -S "$root/native-lsp" -B "$build" -DCMAKE_BUILD_TYPE=Release -DTEARDOWN_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target teardown_bench layer_workload teardown teardown_preload --parallel 2 >/dev/null
bench="$build/bench/teardown_bench"

# Median of five runs of one path ("publish" or "decide+publish"), in ns per event per producer.
median_of_five() {
  local path="$1"
  shift
  for _ in 1 2 3 4 5; do
    "$bench" --path "$path" "$@" | awk -v p="$path" '$1 == p { sub("ns_per_event_per_producer=", "", $5); print $5 }'
  done | sort -n | sed -n 3p
}

echo "== publish cost, ns per event per producer (median of 5 runs of 3M events each)"
for producers in 1 2; do
  for path in publish decide+publish; do
    ns="$(median_of_five "$path" --producers "$producers" --events 3000000)"
    printf '%d producer(s), %-15s %s\n' "$producers" "$path" "$ns"
    [ "$path" = publish ] && figure "publish_ns_${producers}p" "$ns" ns
  done
done

echo "== publish cost, instructions/event (callgrind; difference of two runs removes start-up)"
if command -v valgrind >/dev/null 2>&1; then
  work="$(mktemp -d)"
  count_instructions() {  # path events
    valgrind --tool=callgrind --callgrind-out-file="$work/out.$1.$2" "$bench" --producers 1 \
      --events "$2" --slots 1024 --path "$1" >/dev/null 2>"$work/log"
    sed -n 's/^summary: \([0-9]*\).*/\1/p' "$work/out.$1.$2"
  }
  for path in publish decide+publish; do
    small=$(count_instructions "$path" 10000)
    large=$(count_instructions "$path" 210000)
    per_event="$(awk -v s="$small" -v l="$large" 'BEGIN { printf "%.1f", (l - s) / 200000 }')"
    printf '1 producer, %-15s %s instructions/event\n' "$path" "$per_event"
    [ "$path" = publish ] && figure publish_instructions_1p "$per_event" instructions
  done
  rm -rf "$work"
else
  echo "valgrind not installed: apt-get install valgrind"
fi

"$root/native-lsp/bench/run-layer-benchmarks.sh" "$build"

echo "== Windows LSP under Wine: the base provider alone vs Teardown over it (medians of 7 rounds)"
cd "$root"
mvn -B -q -DskipTests install -pl native-lsp >/dev/null
prefix="$(mktemp -d)"
# A new prefix is made by the first program run in it, and wineboot's services go on starting for
# seconds after it: the prefix is made here and waited for, so that no measurement runs beside it.
WINEPREFIX="$prefix" WINEDEBUG=-all /usr/lib/wine/wine64 wineboot -i >/dev/null 2>&1 || true
WINEPREFIX="$prefix" /usr/lib/wine/wineserver -w 2>/dev/null || true
host="$root/native-lsp/target/spi-host/teardown_spi_host.exe"
wine_bench() {  # mode output-file: Teardown installed in compatible or full mode
  TEARDOWN_TEST_MODE="$1" WINEPREFIX="$prefix" WINEDEBUG=-all /usr/lib/wine/wine64 "$host" bench \
    >"$2" 2>&1 || true
}
ratio_of() {  # file label-start
  awk -v l="$2" 'index($0, l) == 1 { print $NF }' "$1"
}
base_of() {  # file label-start: the base provider's ns
  awk -v l="$2" 'index($0, l) == 1 { for (i = 1; i <= NF; ++i) if ($i == "base") { print $(i + 1); exit } }' "$1"
}
layer_of() {  # file label-start: the ns through Teardown
  awk -v l="$2" 'index($0, l) == 1 { for (i = 1; i <= NF; ++i) if ($i == "Teardown") { print $(i + 1); exit } }' "$1"
}
# Full mode first (Teardown's own handles, every request completed by it), with no channel (the
# prefix is new): Teardown passes every call through, so this is what the non-IFS layering itself
# costs. Then with a channel recording everything, in full mode and in compatible mode (the base
# provider's own handles, the program's requests completing without Teardown).
wine_bench full "$prefix/passing.out"
echo "-- full mode, passing calls through (no channel)"
grep -E "ratio|lower call|FAILED" "$prefix/passing.out" || cat "$prefix/passing.out"
channel_dir="$prefix/drive_c/ProgramData/Teardown"
python3 - "$build/out/libteardown.so" "$channel_dir" <<'PY'
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
handle = ctypes.c_void_p()
sys.exit(lib.td_channel_open(sys.argv[2].encode(), 1, 0, ctypes.byref(handle)))
PY
chmod 0755 "$channel_dir/rings"  # Wine has no sticky bit, and runs as this user
wine_bench full "$prefix/recording.out"
echo "-- full mode, recording (a channel)"
grep -E "ratio|lower call|FAILED" "$prefix/recording.out" || cat "$prefix/recording.out"
wine_bench compatible "$prefix/compatible.out"
echo "-- compatible mode, recording (a channel)"
grep -E "ratio|lower call|FAILED" "$prefix/compatible.out" || cat "$prefix/compatible.out"
WINEPREFIX="$prefix" /usr/lib/wine/wineserver -k 2>/dev/null || true
figure lsp_rt_ratio "$(ratio_of "$prefix/recording.out" "round trip")" x
figure lsp_overlapped_ratio "$(ratio_of "$prefix/recording.out" "overlapped round trip")" x
figure lsp_churn_ratio "$(ratio_of "$prefix/recording.out" "connection churn")" x
figure lsp_compat_rt_ratio "$(ratio_of "$prefix/compatible.out" "round trip")" x
figure lsp_compat_overlapped_ratio "$(ratio_of "$prefix/compatible.out" "overlapped round trip")" x
figure lsp_compat_churn_ratio "$(ratio_of "$prefix/compatible.out" "connection churn")" x
# Teardown's own share of a connection: what recording adds over passing through, in percent
# of the base provider's own connection time. Each run is taken against the base provider
# measured in its own interleaved rounds: the machine's speed moves between the two runs (by a
# third on this VM), and comparing their nanoseconds would count that as Teardown's.
own="$(awk -v rec="$(layer_of "$prefix/recording.out" "connection churn")" \
  -v rec_base="$(base_of "$prefix/recording.out" "connection churn")" \
  -v pass="$(layer_of "$prefix/passing.out" "connection churn")" \
  -v pass_base="$(base_of "$prefix/passing.out" "connection churn")" \
  'BEGIN { if (rec_base > 0 && pass_base > 0) printf "%.1f", (rec / rec_base - pass / pass_base) * 100 }')"
echo "Teardown's own work per connection (recording over passing through): ${own}% of the base provider's connection time"
# Of which the calls below that recording needs (the connecting end's own address, the unread
# byte count at each close): the SPI host counted and timed them; passing through makes none.
needed="$(sed -n "s/.*Teardown's lower calls: .*, \([0-9.]*\)% of the base's.*/\1/p" "$prefix/recording.out")"
if [ -n "$own" ] && [ -n "$needed" ]; then
  awk -v own="$own" -v needed="$needed" 'BEGIN {
    printf "  of which the calls below recording needs: %.1f%%; Teardown'"'"'s work in the process: %.1f%%\n", needed, own - needed }'
fi
figure lsp_own_conn_percent "$own" percent
rm -rf "$prefix"

echo "== Java drain rate (JMH, events/s): objects, flyweight views, the native copy alone, decoding alone"
cd "$root"
mvn -B -q -DskipTests install -pl native-lsp,java-api -am >/dev/null
jmh="$(mktemp)"
mvn -B -q -Pbench -DskipTests verify -pl java-api \
  -Djmh.args="DrainBenchmark -p batchSize=1024 -f 1 -wi 3 -i 5 -w 2s -r 3s" | tee "$jmh"
score_of() {  # benchmark method
  awk -v b="DrainBenchmark.$1" '$1 == b { print $(NF - 3) }' "$jmh" | head -1
}
figure java_drain_events_per_s "$(score_of drain)" events/s
figure java_flyweight_events_per_s "$(score_of flyweight)" events/s
rm -f "$jmh"

echo "== publication to listener (a subscription with the default idle policy)"
latency="$(mktemp)"
mvn -B -q -Pbench -DskipTests verify -pl java-api \
  -Dbench.main=dev.teardown.api.bench.LatencyBenchmark -Djmh.args=2000 | tee "$latency"
awk '$1 == "java_latency_p99_us" { print $2 }' "$latency" | while read -r p99; do
  figure java_latency_p99_us "$p99" us
done
rm -f "$latency"

echo "== the recorder: a full channel drained into a history database (events/s, heap after)"
recorder="$(mktemp)"
mvn -B -q -Pbench -DskipTests verify -pl java-api \
  -Dbench.main=dev.teardown.api.bench.RecorderBenchmark -Djmh.args= | tee "$recorder"
awk '$1 == "recorder_events_per_s" || $1 == "recorder_heap_mib" { print $1, $2, $3 }' "$recorder" |
  while read -r name value unit; do
    figure "$name" "$value" "$unit"
  done
rm -f "$recorder"

if [ -n "$summary" ]; then
  echo "== summary"
  cat "$summary"
fi
