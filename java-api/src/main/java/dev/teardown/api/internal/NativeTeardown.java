package dev.teardown.api.internal;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;

/**
 * The control library's C ABI ({@code teardown.h}), bound as it is: every call returns the
 * library's status code; the layer above turns codes into exceptions. Strings are passed as
 * NUL-terminated UTF-8 byte arrays so that the JVM's default charset never matters.
 */
public interface NativeTeardown extends Library {

  /** The library, loaded once from the JNA resource prefix of the teardown-native jar. */
  NativeTeardown INSTANCE = Native.load("teardown", NativeTeardown.class);

  int TD_OK = 0;
  int TD_OPEN_CREATE = 1;
  int TD_START_OLDEST = 0;
  int TD_START_NEWEST = 1;
  int TD_START_FIRST = 2;

  int td_abi_version();

  String td_status_text(int status);

  int td_layout(byte[] type, byte[] field, IntByReference offset, IntByReference size);

  int td_channel_open(byte[] path, int flags, int slotCount, PointerByReference out);

  void td_channel_close(Pointer channel);

  int td_channel_path(Pointer channel, byte[] buffer, SizeT capacity);

  int td_channel_capacity(Pointer channel, IntByReference slotCount);

  int td_channel_lane_capacity(Pointer channel, IntByReference slotCount);

  int td_channel_counters(Pointer channel, NativeCounters out);

  int td_channel_publish(Pointer channel, Pointer event);

  int td_channel_config_owner(Pointer channel, byte[] owner, SizeT capacity, IntByReference flags);

  void td_config_default(NativeConfig out);

  int td_config_check(NativeConfig config, byte[] field, SizeT fieldCapacity);

  int td_config_read(Pointer channel, NativeConfig out);

  int td_config_write(Pointer channel, NativeConfig config);

  int td_reader_create(Pointer channel, int start, int stallTimeoutMs, PointerByReference out);

  void td_reader_destroy(Pointer reader);

  int td_reader_resume(
      Pointer channel, Pointer positions, SizeT count, int start, int stallTimeoutMs,
      PointerByReference out);

  int td_reader_positions(Pointer reader, Pointer positions, SizeT capacity, LongByReference count);

  // td_reader_read is bound directly, in DirectReads.

  int td_reader_user(Pointer reader, int user, byte[] name, SizeT capacity);

  int td_reader_user_lost(Pointer reader, int user, com.sun.jna.ptr.LongByReference lost);
}
