#!/usr/bin/env bash
# The Linux layer's overhead: the same loopback workloads run plain, under the layer (recording
# into a channel), and under strace watching the same calls, interleaved in one run. Prints the
# best of 9 runs of each (the least disturbed: a shared VM swings run to run by 2x) and the
# median, with their ratios to plain. Part of ./teardown bench.
set -euo pipefail
build="${1:?usage: run-layer-benchmarks.sh CMAKE_BUILD_DIR}"
workload="$build/bench/layer_workload"
layer="$build/out/libteardown_preload.so"
[ -x "$workload" ] && [ -f "$layer" ] || { echo "build $workload and $layer first" >&2; exit 2; }
channel="$(mktemp -d /dev/shm/teardown-bench-XXXXXX 2>/dev/null || mktemp -d)"
emulating="$(mktemp -d /dev/shm/teardown-bench-XXXXXX 2>/dev/null || mktemp -d)"
trap 'rm -rf "$channel" "$emulating"' EXIT
# A free port for the emulation comparison, the same for both of its variants.
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# Create the channels the layer records into (the control library's own C ABI, from Python):
# the second emulates disconnect data on $port.
make_channel() {  # directory [emulated port]
  python3 - "$build/out/libteardown.so" "$@" <<'PY'
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
handle = ctypes.c_void_p()
status = lib.td_channel_open(sys.argv[2].encode(), 1, 0, ctypes.byref(handle))
if status == 0 and len(sys.argv) > 3:
    def offset(field):
        at, size = ctypes.c_uint32(), ctypes.c_uint32()
        lib.td_layout(b"config", field, ctypes.byref(at), ctypes.byref(size))
        return at.value
    whole, size = ctypes.c_uint32(), ctypes.c_uint32()
    lib.td_layout(b"config", None, ctypes.byref(whole), ctypes.byref(size))
    config = ctypes.create_string_buffer(size.value)
    lib.td_config_default(config)
    ctypes.c_uint32.from_buffer(config, offset(b"emulation_port_count")).value = 1
    ctypes.c_uint16.from_buffer(config, offset(b"emulation_ports")).value = int(sys.argv[3])
    status = lib.td_config_write(handle, config)
sys.exit(status)
PY
}
make_channel "$channel"
make_channel "$emulating" "$port"

measure() {  # variant workload args -> one number
  local variant="$1"
  shift
  case "$variant" in
    plain) "$workload" "$@" ;;
    layer) LD_PRELOAD="$layer" TEARDOWN_CHANNEL="$channel" "$workload" "$@" ;;
    plain-port) LD_PRELOAD="$layer" TEARDOWN_CHANNEL="$channel" "$workload" "$@" "$port" ;;
    emulated-port) LD_PRELOAD="$layer" TEARDOWN_CHANNEL="$emulating" "$workload" "$@" "$port" ;;
    strace) strace -f -qq -o /dev/null -e trace=socket,connect,accept,accept4,shutdown,close,read,write,setsockopt "$workload" "$@" ;;
  esac | awk '{ print $1 }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
best() {  # the smallest time, or the largest throughput
  if [ "$1" = higher ]; then sort -n | tail -1; else sort -n | head -1; fi
}

figure() {  # name value unit: a line of ./teardown bench --summary
  printf '%s %s %s\n' "$1" "$2" "$3" >>"${TEARDOWN_BENCH_FIGURES:-/dev/null}"
}

run() {  # label unit higher-is-better figure-name workload args
  local label="$1" unit="$2" better="$3" name="$4"
  shift 4
  declare -A results
  for variant in plain layer strace; do results[$variant]=""; done
  for _ in 1 2 3 4 5 6 7 8 9; do
    for variant in plain layer strace; do
      results[$variant]+="$(measure "$variant" "$@")"$'\n'
    done
  done
  local line=""
  for statistic in best median; do
    local plain layer traced
    if [ "$statistic" = best ]; then
      plain="$(printf '%s' "${results[plain]}" | best "$better")"
      layer="$(printf '%s' "${results[layer]}" | best "$better")"
      traced="$(printf '%s' "${results[strace]}" | best "$better")"
    else
      plain="$(printf '%s' "${results[plain]}" | median)"
      layer="$(printf '%s' "${results[layer]}" | median)"
      traced="$(printf '%s' "${results[strace]}" | median)"
    fi
    line+="$(awk -v st="$statistic" -v u="$unit" -v p="$plain" -v t="$layer" -v s="$traced" 'BEGIN {
      printf "  %-6s plain %9.2f %-6s layer %9.2f (%.3fx)  strace %9.2f (%.2fx)", st, p, u, t, t / p, s, s / p }')"$'\n'
    if [ "$statistic" = median ]; then
      figure "$name" "$(awk -v p="$plain" -v t="$layer" 'BEGIN { printf "%.3f", t / p }')" x
    fi
  done
  printf '%s\n%s' "$label" "$line"
}

echo "== the Linux layer against no layer and strace (9 interleaved runs; x = ratio to plain)"
command -v strace >/dev/null || { echo "strace not installed: apt-get install strace" >&2; exit 2; }
run "1-byte request/response round trip" "us/op" lower linux_rt_ratio rr 20000
run "connect/accept/close churn" "us/op" lower linux_churn_ratio churn 3000
run "bulk throughput" "MB/s" higher linux_bulk_ratio bulk 2000

# The same workloads in instructions (callgrind), layer minus plain: the difference of two
# counts of operations removes start-up; one process holds both ends of every connection.
if command -v valgrind >/dev/null; then
  instructions() {  # variant workload count
    local out
    out="$(mktemp)"
    if [ "$1" = layer ]; then
      LD_PRELOAD="$layer" TEARDOWN_CHANNEL="$channel" valgrind --tool=callgrind \
        --callgrind-out-file="$out" "$workload" "$2" "$3" >/dev/null 2>&1
    else
      valgrind --tool=callgrind --callgrind-out-file="$out" "$workload" "$2" "$3" >/dev/null 2>&1
    fi
    sed -n 's/^summary: \([0-9]*\).*/\1/p' "$out"
    rm -f "$out"
  }
  added() {  # workload small large: instructions the layer adds per operation
    local ps pl ls ll
    ps="$(instructions plain "$1" "$2")"
    pl="$(instructions plain "$1" "$3")"
    ls="$(instructions layer "$1" "$2")"
    ll="$(instructions layer "$1" "$3")"
    awk -v ps="$ps" -v pl="$pl" -v ls="$ls" -v ll="$ll" -v n="$(($3 - $2))" \
      'BEGIN { printf "%.0f", ((ll - ls) - (pl - ps)) / n }'
  }
  echo "== instructions the layer adds (callgrind, layer minus plain)"
  rt="$(added rr 2000 12000)"
  # A round trip here is both ends' send and receive: one end's is half.
  rt_end="$(awk -v v="$rt" 'BEGIN { printf "%.0f", v / 2 }')"
  echo "1-byte round trip: $rt_end instructions at each end (send + recv), $rt for both"
  figure linux_rt_instructions "$rt_end" instructions
  # A connection's life here is both ends' (socket and connect, accept, a close at each end); a
  # process under the layer pays for its own end, which the figure gives, as for the round trip.
  conn="$(added churn 200 1200)"
  conn_end="$(awk -v v="$conn" 'BEGIN { printf "%.0f", v / 2 }')"
  echo "one connection's life: $conn_end instructions at each end, $conn for both"
  figure linux_conn_instructions "$conn_end" instructions
fi

# Disconnect-data emulation: the same workloads on one port, under the layer both times, with
# the port plain and then emulated (every send framed, every receive unframed).
compare_emulation() {  # label unit higher-is-better workload args
  local label="$1" unit="$2" better="$3"
  shift 3
  local plain="" emulated=""
  for _ in 1 2 3 4 5 6 7 8 9; do
    plain+="$(measure plain-port "$@")"$'\n'
    emulated+="$(measure emulated-port "$@")"$'\n'
  done
  printf '%s\n' "$label"
  for statistic in best median; do
    local p e
    if [ "$statistic" = best ]; then
      p="$(printf '%s' "$plain" | best "$better")"
      e="$(printf '%s' "$emulated" | best "$better")"
    else
      p="$(printf '%s' "$plain" | median)"
      e="$(printf '%s' "$emulated" | median)"
    fi
    awk -v st="$statistic" -v u="$unit" -v p="$p" -v e="$e" 'BEGIN {
      printf "  %-6s plain port %9.2f %-6s emulated port %9.2f (%.3fx)\n", st, p, u, e, e / p }'
  done
}

echo "== disconnect-data emulation: an emulated port against a plain one, both under the layer (9 interleaved runs)"
compare_emulation "1-byte request/response round trip" "us/op" lower rr 20000
compare_emulation "bulk throughput (64 KiB writes and reads)" "MB/s" higher bulk 2000
