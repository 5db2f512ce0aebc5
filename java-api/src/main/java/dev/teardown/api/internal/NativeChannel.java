package dev.teardown.api.internal;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.PointerByReference;
import dev.teardown.api.InvalidConfigurationException;
import dev.teardown.api.RingPosition;
import dev.teardown.api.TeardownException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * An open {@code td_channel*}: every channel call, with status codes turned into
 * {@link TeardownException}s that keep the code. Thread-safe; closing is idempotent.
 */
public final class NativeChannel implements AutoCloseable {
  static final NativeTeardown LIB = loadChecked();

  private final Object lock = new Object();
  private Pointer handle;

  private NativeChannel(Pointer handle) {
    this.handle = handle;
  }

  /** Opens the channel in {@code directory} (null: the default location). */
  public static NativeChannel open(String directory, boolean create, int slots) {
    PointerByReference out = new PointerByReference();
    String where = directory == null ? "the default channel" : "channel " + directory;
    int flags = create ? NativeTeardown.TD_OPEN_CREATE : 0;
    check(LIB.td_channel_open(cString(directory), flags, slots, out), "opening " + where);
    return new NativeChannel(out.getValue());
  }

  public String path() {
    byte[] buffer = new byte[4096];
    check(LIB.td_channel_path(handle(), buffer, new SizeT(buffer.length)), "reading the channel path");
    return fromCString(buffer, 0, buffer.length);
  }

  public int capacity() {
    IntByReference slots = new IntByReference();
    check(LIB.td_channel_capacity(handle(), slots), "reading the capacity");
    return slots.getValue();
  }

  public int laneCapacity() {
    IntByReference slots = new IntByReference();
    check(LIB.td_channel_lane_capacity(handle(), slots), "reading a lane's capacity");
    return slots.getValue();
  }

  public NativeCounters counters() {
    NativeCounters counters = new NativeCounters();
    check(LIB.td_channel_counters(handle(), counters), "reading the counters");
    return counters;
  }

  /** The configuration's owner: its name, and the TD_CONFIG_* flags in the last element. */
  public String configOwner(int[] flags) {
    byte[] buffer = new byte[512];
    IntByReference bits = new IntByReference();
    check(LIB.td_channel_config_owner(handle(), buffer, new SizeT(buffer.length), bits),
        "reading who owns the configuration");
    flags[0] = bits.getValue();
    return fromCString(buffer, 0, buffer.length);
  }

  public NativeConfig readConfig() {
    NativeConfig config = new NativeConfig();
    check(LIB.td_config_read(handle(), config), "reading the configuration");
    return config;
  }

  /** Checks (naming the offending field) and writes a configuration. */
  public void writeConfig(NativeConfig config) {
    byte[] field = new byte[64];
    int status = LIB.td_config_check(config, field, new SizeT(field.length));
    if (status == TeardownException.Status.INVALID_CONFIG.code()) {
      throw new InvalidConfigurationException(
          fromCString(field, 0, field.length), "rejected by the control library");
    }
    check(status, "checking the configuration");
    check(LIB.td_config_write(handle(), config), "writing the configuration");
  }

  /** Publishes one encoded record (see {@link EventEncoder}). */
  public void publish(ByteBuffer record) {
    try (Memory memory = new Memory(EventRecordLayout.SIZE)) {
      ByteBuffer target = memory.getByteBuffer(0, EventRecordLayout.SIZE).order(ByteOrder.LITTLE_ENDIAN);
      target.put(record.duplicate().position(0).limit(EventRecordLayout.SIZE));
      check(LIB.td_channel_publish(handle(), memory), "publishing an event");
    }
  }

  /**
   * Publishes {@code count} encoded records that lie {@link EventRecordLayout#SIZE} bytes apart
   * in native memory, with no copy: for tools that replay many events.
   */
  public void publish(Memory records, int count) {
    if (count < 0 || (long) count * EventRecordLayout.SIZE > records.size()) {
      throw new IllegalArgumentException(
          count + " records do not fit in " + records.size() + " bytes");
    }
    Pointer channel = handle();
    for (int i = 0; i < count; i++) {
      check(
          LIB.td_channel_publish(channel, records.share((long) i * EventRecordLayout.SIZE)),
          "publishing an event");
    }
  }

  /** A reader of this channel; see {@link NativeReader}. */
  public NativeReader reader(boolean fromOldest, int batchSize, int stallTimeoutMs) {
    return new NativeReader(this, fromOldest, batchSize, stallTimeoutMs);
  }

  /**
   * A reader that reads on from saved positions; rings not among them (made since) are read from
   * their first event.
   */
  public NativeReader resume(List<RingPosition> positions, int batchSize, int stallTimeoutMs) {
    return new NativeReader(this, positions, NativeTeardown.TD_START_FIRST, batchSize, stallTimeoutMs);
  }

  Pointer handle() {
    synchronized (lock) {
      if (handle == null) {
        throw new IllegalStateException("the channel is closed");
      }
      return handle;
    }
  }

  @Override
  public void close() {
    synchronized (lock) {
      if (handle != null) {
        LIB.td_channel_close(handle);
        handle = null;
      }
    }
  }

  static void check(int status, String doing) {
    if (status != NativeTeardown.TD_OK) {
      throw new TeardownException(
          TeardownException.Status.fromCode(status), doing + ": " + LIB.td_status_text(status));
    }
  }

  static byte[] cString(String text) {
    if (text == null) {
      return null;
    }
    byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
    byte[] terminated = new byte[utf8.length + 1];
    System.arraycopy(utf8, 0, terminated, 0, utf8.length);
    return terminated;
  }

  static String fromCString(byte[] bytes, int start, int capacity) {
    int length = 0;
    while (length < capacity && bytes[start + length] != 0) {
      length++;
    }
    return new String(bytes, start, length, StandardCharsets.UTF_8);
  }

  private static NativeTeardown loadChecked() {
    NativeTeardown lib;
    try {
      lib = NativeTeardown.INSTANCE;
    } catch (UnsatisfiedLinkError e) {
      UnsatisfiedLinkError clear = new UnsatisfiedLinkError("Teardown's native library "
          + System.mapLibraryName("teardown") + " for " + com.sun.jna.Platform.RESOURCE_PREFIX
          + " is not on the class path: it comes in dev.teardown:teardown-native, which"
          + " dev.teardown:teardown-api brings with it (a build that leaves it out, or repackages"
          + " without it, can set jna.library.path to a folder holding the library). JNA said: "
          + e.getMessage());
      clear.initCause(e);
      throw clear;
    }
    int major = lib.td_abi_version() >>> 16;
    if (major != 1) {
      throw new IllegalStateException(
          "the teardown native library has ABI major version " + major + ", this API needs 1");
    }
    return lib;
  }
}
