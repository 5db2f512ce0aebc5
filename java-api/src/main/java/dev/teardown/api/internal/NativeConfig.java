package dev.teardown.api.internal;

import com.sun.jna.Structure;
import com.sun.jna.Structure.FieldOrder;

/**
 * {@code td_config}. Names are bytes, not {@code char[]}: JNA maps {@code char} to the platform's
 * wchar_t, and the C struct holds UTF-8. Port ranges are interleaved first/last shorts.
 */
@FieldOrder({
  "enabled",
  "kinds",
  "capture_bytes",
  "abortive_to_graceful",
  "process_count",
  "port_count",
  "emulation_port_count",
  "reserved",
  "processes",
  "ports",
  "emulation_ports"
})
public final class NativeConfig extends Structure {
  /** TD_FILTER_MAX. */
  public static final int FILTER_MAX = 16;
  /** TD_PROCESS_NAME_MAX. */
  public static final int PROCESS_NAME_MAX = 64;

  public int enabled;
  public int kinds;
  public int capture_bytes;
  public int abortive_to_graceful;
  public int process_count;
  public int port_count;
  public int emulation_port_count;
  public int reserved;
  public byte[] processes = new byte[FILTER_MAX * PROCESS_NAME_MAX];
  public short[] ports = new short[FILTER_MAX * 2];
  public short[] emulation_ports = new short[FILTER_MAX];

  /** The offset of a field, for the layout tests. */
  public int offsetOf(String field) {
    return fieldOffset(field);
  }
}
