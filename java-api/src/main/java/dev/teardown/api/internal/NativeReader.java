package dev.teardown.api.internal;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;
import dev.teardown.api.RingPosition;
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
  /** {@code td_ring_position}: the ring's name, then its generation and next sequence. */
  static final int POSITION_RING = 0;
  static final int POSITION_GENERATION = 128;
  static final int POSITION_NEXT_SEQUENCE = 136;
  static final int POSITION_SIZE = 144;

  private final NativeChannel channel;
  private final int capacity;
  // The read's two results: the count of records (a size_t) at 0, the count lost at 8.
  private final Memory results = new Memory(16);
  private final Pointer lostResult = results.share(8);
  private Pointer reader;
  private Memory records;
  private ByteBuffer view;
  private final List<String> users = new ArrayList<>();
  private final byte[] nameBuffer = new byte[512];

  NativeReader(NativeChannel channel, boolean fromOldest, int batchSize, int stallTimeoutMs) {
    this(channel, List.of(), fromOldest ? NativeTeardown.TD_START_OLDEST : NativeTeardown.TD_START_NEWEST,
        batchSize, stallTimeoutMs);
  }

  /**
   * A reader that reads on from {@code positions}; other rings start at {@code start} (one of
   * the {@code TD_START_*} values).
   */
  NativeReader(
      NativeChannel channel, List<RingPosition> positions, int start, int batchSize, int stallTimeoutMs) {
    this.channel = channel;
    this.capacity = batchSize;
    PointerByReference out = new PointerByReference();
    try (Memory saved = positions.isEmpty() ? null : new Memory((long) positions.size() * POSITION_SIZE)) {
      for (int i = 0; i < positions.size(); i++) {
        RingPosition position = positions.get(i);
        long base = (long) i * POSITION_SIZE;
        saved.share(base).clear(POSITION_SIZE);
        byte[] name = position.ring().getBytes(StandardCharsets.UTF_8);
        saved.write(base + POSITION_RING, name, 0, name.length);
        saved.setLong(base + POSITION_GENERATION, position.generation());
        saved.setLong(base + POSITION_NEXT_SEQUENCE, position.nextSequence());
      }
      NativeChannel.check(
          NativeChannel.LIB.td_reader_resume(
              channel.handle(), saved, new SizeT(positions.size()), start, stallTimeoutMs, out),
          "creating a reader");
    }
    reader = out.getValue();
    records = new Memory((long) batchSize * EventRecordLayout.SIZE);
    view = records.getByteBuffer(0, records.size()).order(ByteOrder.LITTLE_ENDIAN);
  }

  private final List<Long> userLost = new ArrayList<>();  // by user index: what lostByUser() last saw

  /** Reads a batch; returns how many records are now at the start of {@link #records()}. */
  public int read() {
    if (reader == null) {
      throw new IllegalStateException("the reader is closed");
    }
    channel.handle();  // fails once the channel is closed
    NativeChannel.check(
        DirectReads.td_reader_read(reader, records, capacity, results, lostResult),
        "reading events");
    return (int) results.getLong(0);
  }

  /**
   * Events that went by unread during the last {@link #read()}. The native count is unsigned and
   * saturates; past {@link Long#MAX_VALUE} it is reported as that.
   */
  public long lost() {
    long value = results.getLong(8);
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

  /**
   * Of the events counted lost since the previous call, how many were each user's (their rings'),
   * by user name; users with none are left out. Saturating, as {@link #lost()}.
   */
  public java.util.Map<String, Long> lostByUser() {
    java.util.Map<String, Long> out = new java.util.LinkedHashMap<>();
    if (reader == null) {
      return out;
    }
    com.sun.jna.ptr.LongByReference value = new com.sun.jna.ptr.LongByReference();
    for (int index = 0; ; index++) {
      if (NativeChannel.LIB.td_reader_user_lost(reader, index, value) != NativeTeardown.TD_OK) {
        return out;
      }
      long total = value.getValue() < 0 ? Long.MAX_VALUE : value.getValue();
      while (userLost.size() <= index) {
        userLost.add(0L);
      }
      long delta = total - userLost.get(index);
      userLost.set(index, total);
      String name = user(index);
      if (delta > 0 && name != null) {
        out.merge(name, delta, (a, b) -> a + b < 0 ? Long.MAX_VALUE : a + b);
      }
    }
  }

  /** The user index of record {@code index} of the last read (for a record that did not decode). */
  public int userOf(int index) {
    return view.getInt(index * EventRecordLayout.SIZE + EventRecordLayout.USER);
  }

  /** Where this reader stands in each ring, after the events delivered so far. */
  public List<RingPosition> positions() {
    if (reader == null) {
      throw new IllegalStateException("the reader is closed");
    }
    LongByReference rings = new LongByReference();
    for (int capacity = 16; ; capacity *= 2) {
      try (Memory out = new Memory((long) capacity * POSITION_SIZE)) {
        int status = NativeChannel.LIB.td_reader_positions(reader, out, new SizeT(capacity), rings);
        if (status == NativeTeardown.TD_OK) {
          List<RingPosition> positions = new ArrayList<>((int) rings.getValue());
          for (int i = 0; i < rings.getValue(); i++) {
            long base = (long) i * POSITION_SIZE;
            byte[] name = out.getByteArray(base + POSITION_RING, RingPosition.MAX_RING_NAME_BYTES + 1);
            String ring = NativeChannel.fromCString(name, 0, name.length);
            if (RingPosition.isRingName(ring)) {  // the library reads no other: never a reader's end
              positions.add(
                  new RingPosition(ring, out.getLong(base + POSITION_GENERATION), out.getLong(base + POSITION_NEXT_SEQUENCE)));
            }
          }
          return positions;
        }
        if (rings.getValue() <= capacity) {
          NativeChannel.check(status, "reading the reader's positions");
        }
      }
    }
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
      results.close();
      view = null;
    }
  }
}
