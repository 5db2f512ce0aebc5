package dev.teardown.api.internal;

import dev.teardown.api.Configuration;
import dev.teardown.api.EventKind;
import dev.teardown.api.InvalidConfigurationException;
import dev.teardown.api.PortRange;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;

/** Converts between {@link Configuration} and {@code td_config}. */
public final class ConfigCodec {
  private ConfigCodec() {}

  public static NativeConfig toNative(Configuration config) {
    NativeConfig out = new NativeConfig();
    out.enabled = config.enabled() ? 1 : 0;
    int kinds = 0;
    for (EventKind kind : config.kinds()) {
      kinds |= 1 << kind.code();
    }
    out.kinds = kinds;
    out.capture_bytes = config.captureBytes();
    out.abortive_to_graceful = config.abortiveToGraceful() ? 1 : 0;
    List<String> processes = config.processes();
    out.process_count = processes.size();
    for (int i = 0; i < processes.size(); i++) {
      byte[] name = processes.get(i).getBytes(StandardCharsets.UTF_8);
      System.arraycopy(name, 0, out.processes, i * NativeConfig.PROCESS_NAME_MAX, name.length);
    }
    List<PortRange> ports = config.ports();
    out.port_count = ports.size();
    for (int i = 0; i < ports.size(); i++) {
      out.ports[2 * i] = (short) ports.get(i).first();
      out.ports[2 * i + 1] = (short) ports.get(i).last();
    }
    List<Integer> emulation = config.emulationPorts();
    out.emulation_port_count = emulation.size();
    for (int i = 0; i < emulation.size(); i++) {
      out.emulation_ports[i] = (short) emulation.get(i).intValue();
    }
    return out;
  }

  /** Reads a native configuration; a value out of range is reported, never guessed at. */
  public static Configuration fromNative(NativeConfig in) {
    EnumSet<EventKind> kinds = EnumSet.noneOf(EventKind.class);
    for (EventKind kind : EventKind.values()) {
      if ((in.kinds & (1 << kind.code())) != 0) {
        kinds.add(kind);
      }
    }
    List<String> processes = new ArrayList<>();
    for (int i = 0; i < count(in.process_count, "processes"); i++) {
      int start = i * NativeConfig.PROCESS_NAME_MAX;
      int length = 0;
      while (length < NativeConfig.PROCESS_NAME_MAX && in.processes[start + length] != 0) {
        length++;
      }
      processes.add(new String(in.processes, start, length, StandardCharsets.UTF_8));
    }
    List<PortRange> ports = new ArrayList<>();
    for (int i = 0; i < count(in.port_count, "ports"); i++) {
      ports.add(
          new PortRange(
              Short.toUnsignedInt(in.ports[2 * i]), Short.toUnsignedInt(in.ports[2 * i + 1])));
    }
    List<Integer> emulation = new ArrayList<>();
    for (int i = 0; i < count(in.emulation_port_count, "emulationPorts"); i++) {
      emulation.add(Short.toUnsignedInt(in.emulation_ports[i]));
    }
    return new Configuration(
        in.enabled != 0,
        kinds,
        processes,
        ports,
        in.capture_bytes,
        emulation,
        in.abortive_to_graceful != 0);
  }

  private static int count(int value, String field) {
    if (value < 0 || value > NativeConfig.FILTER_MAX) {
      throw new InvalidConfigurationException(field, "count " + value + " is out of range");
    }
    return value;
  }
}
