package dev.teardown.api.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.sun.jna.ptr.IntByReference;
import dev.teardown.api.EventFlag;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The Java view of every shared struct agrees with the C layout the library was built with. */
class NativeLayoutTest {

  private static int[] layout(String type, String field) {
    IntByReference offset = new IntByReference();
    IntByReference size = new IntByReference();
    int status =
        NativeChannel.LIB.td_layout(
            NativeChannel.cString(type), NativeChannel.cString(field), offset, size);
    assertEquals(0, status, () -> "td_layout(" + type + ", " + field + ")");
    return new int[] {offset.getValue(), size.getValue()};
  }

  static Stream<Arguments> eventRecordFields() {
    return Stream.of(
        Arguments.of("sequence", EventRecordLayout.SEQUENCE, 8),
        Arguments.of("time_ns", EventRecordLayout.TIME_NS, 8),
        Arguments.of("socket_id", EventRecordLayout.SOCKET_ID, 8),
        Arguments.of("pid", EventRecordLayout.PID, 4),
        Arguments.of("kind", EventRecordLayout.KIND, 2),
        Arguments.of("flags", EventRecordLayout.FLAGS, 2),
        Arguments.of("error", EventRecordLayout.ERROR, 4),
        Arguments.of("protocol", EventRecordLayout.PROTOCOL, 2),
        Arguments.of("socket_type", EventRecordLayout.SOCKET_TYPE, 1),
        Arguments.of("detail", EventRecordLayout.DETAIL, 1),
        Arguments.of("linger_seconds", EventRecordLayout.LINGER_SECONDS, 2),
        Arguments.of("captured_length", EventRecordLayout.CAPTURED_LENGTH, 2),
        Arguments.of("data_length", EventRecordLayout.DATA_LENGTH, 4),
        Arguments.of("local", EventRecordLayout.LOCAL, EventRecordLayout.ADDRESS_SIZE),
        Arguments.of("remote", EventRecordLayout.REMOTE, EventRecordLayout.ADDRESS_SIZE),
        Arguments.of("lifetime_ns", EventRecordLayout.LIFETIME_NS, 8),
        Arguments.of("bytes_sent", EventRecordLayout.BYTES_SENT, 8),
        Arguments.of("bytes_received", EventRecordLayout.BYTES_RECEIVED, 8),
        Arguments.of("first_shutdown", EventRecordLayout.FIRST_SHUTDOWN, 1),
        Arguments.of("ending", EventRecordLayout.ENDING, 1),
        Arguments.of("kernel_state", EventRecordLayout.KERNEL_STATE, 1),
        Arguments.of("os_error", EventRecordLayout.OS_ERROR, 1),
        Arguments.of("kernel", EventRecordLayout.KERNEL, EventRecordLayout.KERNEL_SIZE),
        Arguments.of("user", EventRecordLayout.USER, 4),
        Arguments.of("process_name", EventRecordLayout.PROCESS_NAME, EventRecordLayout.PROCESS_NAME_SIZE),
        Arguments.of("captured", EventRecordLayout.CAPTURED, EventRecordLayout.CAPTURE_MAX));
  }

  @ParameterizedTest(name = "td_event_record.{0}")
  @MethodSource("eventRecordFields")
  void eventRecordFieldMatchesC(String field, int offset, int size) {
    int[] c = layout("event_record", field);
    assertEquals(offset, c[0], "offset");
    assertEquals(size, c[1], "size");
  }

  @Test
  void kernelViewMatchesC() {
    int base = EventRecordLayout.KERNEL;
    assertEquals(EventRecordLayout.KERNEL_SIZE, layout("kernel_view", null)[1]);
    assertEquals(EventRecordLayout.KERNEL_BYTES_ACKED - base, layout("kernel_view", "bytes_acked")[0]);
    assertEquals(EventRecordLayout.KERNEL_BYTES_RECEIVED - base, layout("kernel_view", "bytes_received")[0]);
    assertEquals(EventRecordLayout.KERNEL_UNREAD_BYTES - base, layout("kernel_view", "unread_bytes")[0]);
    assertEquals(EventRecordLayout.KERNEL_UNSENT_BYTES - base, layout("kernel_view", "unsent_bytes")[0]);
    assertEquals(EventRecordLayout.KERNEL_RTT_US - base, layout("kernel_view", "rtt_us")[0]);
    assertEquals(EventRecordLayout.KERNEL_RETRANSMITS - base, layout("kernel_view", "retransmits")[0]);
    assertEquals(EventRecordLayout.KERNEL_TIMEOUTS - base, layout("kernel_view", "timeouts")[0]);
    assertEquals(EventRecordLayout.KERNEL_PROBES - base, layout("kernel_view", "probes")[0]);
  }

  @Test
  void eventRecordAndAddressSizesMatchC() {
    assertEquals(EventRecordLayout.SIZE, layout("event_record", null)[1]);
    assertEquals(EventRecordLayout.ADDRESS_SIZE, layout("address", null)[1]);
    assertEquals(EventRecordLayout.ADDRESS_FAMILY, layout("address", "family")[0]);
    assertEquals(EventRecordLayout.ADDRESS_PORT, layout("address", "port")[0]);
    assertEquals(EventRecordLayout.ADDRESS_SCOPE_ID, layout("address", "scope_id")[0]);
    assertEquals(EventRecordLayout.ADDRESS_BYTES, layout("address", "bytes")[0]);
    assertEquals(16, layout("address", "bytes")[1]);
  }

  @Test
  void ringPositionMatchesC() {
    assertEquals(NativeReader.POSITION_SIZE, layout("ring_position", null)[1]);
    assertEquals(NativeReader.POSITION_RING, layout("ring_position", "ring")[0]);
    assertEquals(dev.teardown.api.RingPosition.MAX_RING_NAME_BYTES + 1, layout("ring_position", "ring")[1]);
    assertEquals(NativeReader.POSITION_GENERATION, layout("ring_position", "generation")[0]);
    assertEquals(NativeReader.POSITION_NEXT_SEQUENCE, layout("ring_position", "next_sequence")[0]);
  }

  @ParameterizedTest(name = "td_config.{0}")
  @MethodSource("configFields")
  void configFieldMatchesC(String field) {
    NativeConfig config = new NativeConfig();
    int[] c = layout("config", field);
    assertEquals(c[0], config.offsetOf(field), "offset");
  }

  static Stream<String> configFields() {
    return Stream.of(
        "enabled", "kinds", "capture_bytes", "abortive_to_graceful", "process_count", "port_count",
        "emulation_port_count", "reserved", "processes", "ports", "emulation_ports");
  }

  @Test
  void configAndCountersSizesMatchC() {
    assertEquals(layout("config", null)[1], new NativeConfig().size());
    assertEquals(layout("config", "processes")[1], NativeConfig.FILTER_MAX * NativeConfig.PROCESS_NAME_MAX);
    assertEquals(layout("config", "ports")[1], NativeConfig.FILTER_MAX * 4);
    assertEquals(4, layout("port_range", null)[1]);
    assertEquals(2, layout("port_range", "last")[0]);
    NativeCounters counters = new NativeCounters();
    assertEquals(layout("counters", null)[1], counters.size());
    for (String field : new String[] {"produced", "dropped", "per_kind"}) {
      assertEquals(layout("counters", field)[0], counters.offsetOf(field), field);
    }
  }

  @Test
  void everyFlagOfTheHeaderIsAnEventFlagWithItsBit() throws IOException {
    // The header the native code was built from is the source of truth for the flags' bits.
    String header =
        Files.readString(Path.of("..", "native-lsp", "include", "teardown", "teardown.h"));
    Matcher define = Pattern.compile("#define TD_FLAG_(\\w+) (0x[0-9a-fA-F]+)u").matcher(header);
    Map<String, Integer> inHeader = new TreeMap<>();
    while (define.find()) {
      inHeader.put(define.group(1), Integer.decode(define.group(2)));
    }
    Map<String, Integer> inJava = new TreeMap<>();
    for (EventFlag flag : EventFlag.values()) {
      inJava.put(flag.name().replace("_", ""), flag.bit());
    }
    Map<String, Integer> headerNames = new TreeMap<>();
    inHeader.forEach((name, bit) -> headerNames.put(name.replace("_", ""), bit));
    assertEquals(headerNames, inJava);
    assertEquals(EventFlag.values().length, inHeader.size());
    int all = inHeader.values().stream().reduce(0, (a, b) -> a | b);
    assertEquals(EnumSet.allOf(EventFlag.class), EventFlag.fromBits(all), "every bit is decoded");
  }
}
