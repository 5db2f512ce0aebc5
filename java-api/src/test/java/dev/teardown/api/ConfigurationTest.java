package dev.teardown.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Invalid configuration is rejected with an exception naming the field. */
class ConfigurationTest {

  private static void rejects(String field, Executable build) {
    InvalidConfigurationException e = assertThrows(InvalidConfigurationException.class, build);
    assertEquals(field, e.field());
    assertTrue(e.getMessage().startsWith(field + ": "), e.getMessage());
  }

  @Test
  void defaultRecordsEveryEndingEverywhereWithoutCapture() {
    Configuration config = Configuration.DEFAULT;
    assertTrue(config.enabled());
    assertEquals(EnumSet.complementOf(EnumSet.of(EventKind.CONNECTED)), config.kinds(),
        "every kind but CONNECTED, an event more per connection");
    assertFalse(config.records(EventKind.CONNECTED, "anything", 1, 2));
    assertEquals(0, config.captureBytes());
    assertFalse(config.abortiveToGraceful());
    assertTrue(config.records(EventKind.RESET, "anything", 1, 2));
  }

  @Test
  void captureBytesMustFitAnEvent() {
    rejects("captureBytes", () -> Configuration.builder().captureBytes(257).build());
    rejects("captureBytes", () -> Configuration.builder().captureBytes(-1).build());
    assertEquals(256, Configuration.builder().captureBytes(256).build().captureBytes());
  }

  @Test
  void aProcessIsSelectedByTheStartOfItsNameInAnyCaseAsProducersSelectIt() {
    Configuration config = Configuration.builder().processes(List.of("python3", "Java")).build();
    assertTrue(config.records(EventKind.CLOSE, "python3.11", 1, 2), "python3 is python3.11 too");
    assertTrue(config.records(EventKind.CLOSE, "PYTHON3", 1, 2));
    assertTrue(config.records(EventKind.CLOSE, "java.exe", 1, 2));
    assertFalse(config.records(EventKind.CLOSE, "python", 1, 2), "shorter than the name given");
    assertFalse(config.records(EventKind.CLOSE, "cpython3", 1, 2), "inside the name, not at its start");
    assertFalse(config.records(EventKind.CLOSE, null, 1, 2), "a nameless process is not one of these");
  }

  @Test
  void processesMustBeNamesNotPaths() {
    rejects("processes", () -> Configuration.builder().processes(List.of("/usr/bin/curl")).build());
    rejects("processes", () -> Configuration.builder().processes(List.of("C:\\x.exe")).build());
    rejects("processes", () -> Configuration.builder().processes(List.of("")).build());
    rejects("processes", () -> Configuration.builder().processes(List.of("x".repeat(64))).build());
    rejects(
        "processes",
        () -> Configuration.builder().processes(Collections.nCopies(17, "a")).build());
  }

  @Test
  void portsMustBeValidRanges() {
    rejects("ports", () -> new PortRange(0, 10));
    rejects("ports", () -> new PortRange(10, 9));
    rejects("ports", () -> new PortRange(1, 65536));
    rejects("ports", () -> PortRange.parse("http"));
    assertEquals(new PortRange(8000, 8099), PortRange.parse(" 8000 - 8099 "));
    assertEquals(PortRange.of(443), PortRange.parse("443"));
    rejects(
        "ports",
        () -> Configuration.builder().ports(Collections.nCopies(17, PortRange.of(1))).build());
  }

  @Test
  void emulationPortsMustBeDistinctPorts() {
    rejects("emulationPorts", () -> Configuration.builder().emulationPorts(List.of(0)).build());
    rejects("emulationPorts", () -> Configuration.builder().emulationPorts(List.of(7000, 7000)).build());
  }

  @Test
  void nullsAreRejectedByName() {
    rejects("kinds", () -> new Configuration(true, null, List.of(), List.of(), 0, List.of(), false));
    rejects(
        "processes",
        () -> Configuration.builder().processes(Collections.singletonList(null)).build());
  }

  @Test
  void recordsAppliesKindsProcessesAndPortsLikeTheProducers() {
    Configuration config =
        Configuration.builder()
            .kinds(EventKind.CLOSE)
            .processes(List.of("Curl"))
            .ports(List.of(new PortRange(8000, 8099)))
            .build();
    assertTrue(config.records(EventKind.CLOSE, "curl", 50000, 8080));
    assertTrue(config.records(EventKind.CLOSE, "CURL", 8099, 1));
    assertFalse(config.records(EventKind.RESET, "curl", 50000, 8080));
    assertFalse(config.records(EventKind.CLOSE, "wget", 50000, 8080));
    assertFalse(config.records(EventKind.CLOSE, "curl", 50000, 443));
    assertFalse(config.toBuilder().enabled(false).build().records(EventKind.CLOSE, "curl", 1, 8080));
  }

  @Test
  void aConfigurationIsImmutable() {
    Configuration config = Configuration.builder().kinds(EventKind.EOF).build();
    assertThrows(UnsupportedOperationException.class, () -> config.kinds().add(EventKind.RESET));
    assertThrows(UnsupportedOperationException.class, () -> config.ports().add(PortRange.of(1)));
  }
}
