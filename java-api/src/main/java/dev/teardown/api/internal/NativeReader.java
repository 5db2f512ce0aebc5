package dev.teardown.api.internal;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@code td_reader*} and its batch buffer: one native call copies up to a batch of records
 * into native memory, which is then decoded through a little-endian view. Not thread-safe.
 */
public final class NativeReader implements AutoCloseable {
  private final NativeChannel channel;
  private final SizeT capacity;
  private final LongByReference count = new LongByReference();
  private final LongByReference lost = new LongByReference();
  private Pointer reader;
  private Memory records;
  private ByteBuffer view;
  private final List<String> users = new ArrayList<>();
  private final byte[] nameBuffer = new byte[512];

  NativeReader(NativeChannel channel, boolean fromOldest, int batchSize, int stallTimeoutMs) {
    this.channel = channel;
    this.capacity = new SizeT(batchSize);
    PointerByReference out = new PointerByReference();
    int start = fromOldest ? NativeTeardown.TD_START_OLDEST : NativeTeardown.TD_START_NEWEST;
    NativeChannel.check(
        NativeChannel.LIB.td_reader_create(channel.handle(), start, stallTimeoutMs, out),
        "creating a reader");
    reader = out.getValue();
    records = new Memory((long) batchSize * EventRecordLayout.SIZE);
    view = records.getByteBuffer(0, records.size()).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Reads a batch; returns how many records are now at the start of {@link #records()}. */
  public int read() {
    if (reader == null) {
      throw new IllegalStateException("the reader is closed");
    }
    channel.handle();  // fails once the channel is closed
    NativeChannel.check(
        NativeChannel.LIB.td_reader_read(reader, records, capacity, count, lost), "reading events");
    return (int) count.getValue();
  }

  /**
   * Events that went by unread during the last {@link #read()}. The native count is unsigned and
   * saturates; past {@link Long#MAX_VALUE} it is reported as that.
   */
  public long lost() {
    long value = lost.getValue();
    return value < 0 ? Long.MAX_VALUE : value;
  }

  /**
   * The name of the user a record's {@code user} field stands for, looked up once per reader;
   * null for an index this reader never gave out.
   */
  public String user(int index) {
    if (index < 0) {
      return null;
    }
    if (index < users.size()) {
      return users.get(index);
    }
    if (reader == null) {
      return null;
    }
    while (users.size() <= index) {
      int status = NativeChannel.LIB.td_reader_user(
          reader, users.size(), nameBuffer, new SizeT(nameBuffer.length));
      if (status != NativeTeardown.TD_OK) {
        return null;
      }
      int length = 0;
      while (length < nameBuffer.length && nameBuffer[length] != 0) {
        length++;
      }
      users.add(new String(nameBuffer, 0, length, StandardCharsets.UTF_8));
    }
    return users.get(index);
  }

  /** The records of the last read, {@link EventRecordLayout#SIZE} bytes apart. */
  public ByteBuffer records() {
    return view;
  }

  @Override
  public void close() {
    if (reader != null) {
      NativeChannel.LIB.td_reader_destroy(reader);
      reader = null;
      records.close();
      records = null;
      view = null;
    }
  }
}
