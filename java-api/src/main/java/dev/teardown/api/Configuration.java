package dev.teardown.api;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The live configuration of every producer on the channel. Immutable; build changes with
 * {@link #toBuilder()}. Every value is checked here, and an invalid one is rejected with an
 * {@link InvalidConfigurationException} naming the field.
 *
 * @param enabled when false, producers record nothing
 * @param kinds the event kinds recorded
 * @param processes the processes to record, each by its executable's name or the start of it, ASCII
 *     letters in any case ("python3" records python3.11, "python" python.exe); empty records every
 *     process
 * @param ports port ranges to record (local or remote port); empty records every port
 * @param captureBytes bytes of disconnect data captured per event, 0 to {@value #MAX_CAPTURE_BYTES}
 * @param emulationPorts ports on which disconnect data is carried over TCP between two layers
 * @param abortiveToGraceful perform SO_LINGER {1,0} closes gracefully (events say so)
 */
public record Configuration(
    boolean enabled,
    Set<EventKind> kinds,
    List<String> processes,
    List<PortRange> ports,
    int captureBytes,
    List<Integer> emulationPorts,
    boolean abortiveToGraceful) {

  /** Most entries in each of processes, ports and emulationPorts. */
  public static final int MAX_FILTERS = 16;
  /** Most bytes of disconnect data one event can hold. */
  public static final int MAX_CAPTURE_BYTES = 256;
  /** Longest process name, in UTF-8 bytes. */
  public static final int MAX_PROCESS_NAME_BYTES = 63;

  /** What a new channel starts with: enabled, every kind but CONNECTED, no filters, no capture. */
  public static final Configuration DEFAULT =
      new Configuration(true, EnumSet.complementOf(EnumSet.of(EventKind.CONNECTED)), List.of(), List.of(), 0,
          List.of(), false);

  public Configuration {
    required(kinds, "kinds");
    kinds =
        Collections.unmodifiableSet(
            kinds.isEmpty() ? EnumSet.noneOf(EventKind.class) : EnumSet.copyOf(kinds));
    processes = List.copyOf(required(processes, "processes"));
    ports = List.copyOf(required(ports, "ports"));
    emulationPorts = List.copyOf(required(emulationPorts, "emulationPorts"));
    limit(processes, "processes");
    limit(ports, "ports");
    limit(emulationPorts, "emulationPorts");
    for (String name : processes) {
      checkProcessName(name);
    }
    if (captureBytes < 0 || captureBytes > MAX_CAPTURE_BYTES) {
      throw new InvalidConfigurationException(
          "captureBytes", captureBytes + " is not in 0.." + MAX_CAPTURE_BYTES);
    }
    for (int port : emulationPorts) {
      if (port < 1 || port > 65535) {
        throw new InvalidConfigurationException("emulationPorts", port + " is not in 1..65535");
      }
    }
    if (new LinkedHashSet<>(emulationPorts).size() != emulationPorts.size()) {
      throw new InvalidConfigurationException("emulationPorts", "a port is listed twice");
    }
  }

  public static Builder builder() {
    return new Builder(DEFAULT);
  }

  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Whether an event of this kind on these ports, in this process, would be recorded. */
  public boolean records(EventKind kind, String processName, int localPort, int remotePort) {
    return enabled
        && kinds.contains(kind)
        && (processes.isEmpty() || processes.stream().anyMatch(p -> startsWithIgnoringCase(processName, p)))
        && (ports.isEmpty()
            || ports.stream().anyMatch(r -> r.contains(localPort) || r.contains(remotePort)));
  }

  /** Whether {@code name} begins with {@code prefix}, ASCII letters in any case, as producers decide it. */
  static boolean startsWithIgnoringCase(String name, String prefix) {
    if (name == null || prefix.length() > name.length()) {
      return false;
    }
    for (int i = 0; i < prefix.length(); i++) {
      if (asciiLower(name.charAt(i)) != asciiLower(prefix.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  private static char asciiLower(char c) {
    return c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
  }

  private static <T> T required(T value, String field) {
    if (value == null) {
      throw new InvalidConfigurationException(field, "must not be null");
    }
    if (value instanceof Collection<?> collection && collection.stream().anyMatch(Objects::isNull)) {
      throw new InvalidConfigurationException(field, "must not contain null");
    }
    return value;
  }

  private static void limit(List<?> values, String field) {
    if (values.size() > MAX_FILTERS) {
      throw new InvalidConfigurationException(
          field, values.size() + " entries, at most " + MAX_FILTERS + " allowed");
    }
  }

  private static void checkProcessName(String name) {
    int bytes = name.getBytes(StandardCharsets.UTF_8).length;
    if (bytes == 0 || bytes > MAX_PROCESS_NAME_BYTES) {
      throw new InvalidConfigurationException(
          "processes", "'" + name + "' must be 1 to " + MAX_PROCESS_NAME_BYTES + " bytes of UTF-8");
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c == '/' || c == '\\' || c < 0x20) {
        throw new InvalidConfigurationException(
            "processes", "'" + name + "' must be an executable name, not a path");
      }
    }
  }

  /** Builds a configuration; {@link #build()} checks it. */
  public static final class Builder {
    private boolean enabled;
    private Set<EventKind> kinds;
    private final List<String> processes;
    private final List<PortRange> ports;
    private int captureBytes;
    private final List<Integer> emulationPorts;
    private boolean abortiveToGraceful;

    private Builder(Configuration from) {
      enabled = from.enabled;
      kinds = from.kinds.isEmpty() ? EnumSet.noneOf(EventKind.class) : EnumSet.copyOf(from.kinds);
      processes = new ArrayList<>(from.processes);
      ports = new ArrayList<>(from.ports);
      captureBytes = from.captureBytes;
      emulationPorts = new ArrayList<>(from.emulationPorts);
      abortiveToGraceful = from.abortiveToGraceful;
    }

    public Builder enabled(boolean value) {
      enabled = value;
      return this;
    }

    public Builder kinds(Collection<EventKind> value) {
      kinds = value.isEmpty() ? EnumSet.noneOf(EventKind.class) : EnumSet.copyOf(value);
      return this;
    }

    public Builder kinds(EventKind first, EventKind... rest) {
      kinds = EnumSet.of(first, rest);
      return this;
    }

    public Builder processes(Collection<String> value) {
      processes.clear();
      processes.addAll(value);
      return this;
    }

    public Builder ports(Collection<PortRange> value) {
      ports.clear();
      ports.addAll(value);
      return this;
    }

    public Builder captureBytes(int value) {
      captureBytes = value;
      return this;
    }

    public Builder emulationPorts(Collection<Integer> value) {
      emulationPorts.clear();
      emulationPorts.addAll(value);
      return this;
    }

    public Builder abortiveToGraceful(boolean value) {
      abortiveToGraceful = value;
      return this;
    }

    public Configuration build() {
      return new Configuration(
          enabled, kinds, processes, ports, captureBytes, emulationPorts, abortiveToGraceful);
    }
  }
}
