package dev.teardown.api;

import dev.teardown.api.internal.EventDecoder;
import dev.teardown.api.internal.EventRecordLayout;
import dev.teardown.api.internal.JfrEmitter;
import dev.teardown.api.internal.NativeReader;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a channel's events in batches, one native call per batch. Each reader has its own
 * position; readers never affect producers or each other. Events read are also emitted as JFR
 * events ({@code dev.teardown.Teardown}) while a recording is on. Not thread-safe.
 */
public final class EventReader implements AutoCloseable {
  private final NativeReader reader;
  private final int batchSize;
  private final EventDecoder decoder;
  private final EventView view;
  private long delivered;
  private long totalLost;
  private long lastLost;

  EventReader(NativeReader reader, int batchSize) {
    this.reader = reader;
    this.batchSize = batchSize;
    this.decoder = new EventDecoder(reader::user);
    this.view = new EventView(decoder);
  }

  /**
   * The events published since the previous read, oldest first, at most the batch size; never
   * blocks. The batch also says how many events went by unread (overwritten before this reader
   * got to them, torn, damaged, abandoned by a killed producer, or malformed); counts saturate
   * at {@link Long#MAX_VALUE}. Every user's ring the caller may read is read, merged by time, and
   * each event carries its ring's owner as {@link TeardownEvent#user()}.
   *
   * @throws TeardownException when the channel can no longer be read
   */
  public Batch read() {
    int count = reader.read();
    long missed = reader.lost();
    if (count == 0 && missed == 0) {
      lastLost = 0;
      return Batch.EMPTY;  // a quiet channel's read makes nothing
    }
    java.util.Map<String, Long> lostByUser = missed == 0 ? java.util.Map.of() : reader.lostByUser();
    List<TeardownEvent> events = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      TeardownEvent event = decoder.decode(reader.records(), i * EventRecordLayout.SIZE);
      if (event == null) {
        missed = saturatedAdd(missed, 1);
        String user = reader.user(reader.userOf(i));
        if (user != null) {
          lostByUser = new java.util.HashMap<>(lostByUser);
          lostByUser.merge(user, 1L, EventReader::saturatedAdd);
        }
      } else {
        events.add(event);
      }
    }
    delivered += events.size();
    totalLost = saturatedAdd(totalLost, missed);
    lastLost = missed;
    JfrEmitter.emit(events);
    return new Batch(events, missed, lostByUser);
  }

  /**
   * Reads like {@link #read()}, but makes no {@link TeardownEvent}: each event that passes the
   * same checks is handed to {@code visitor} as an {@link EventView} over the batch, the same
   * view each time, valid only during the call. Nothing is allocated per event, and no JFR event
   * is emitted. Returns how many events were visited; {@link #lastLost()} says how many went by
   * unread. An exception from the visitor ends the read, and the batch's later events are not
   * visited.
   *
   * @throws TeardownException when the channel can no longer be read
   */
  public int read(EventView.Visitor visitor) {
    int count = reader.read();
    long missed = reader.lost();
    ByteBuffer records = reader.records();
    int visited = 0;
    for (int i = 0; i < count; i++) {
      int offset = i * EventRecordLayout.SIZE;
      if (!decoder.valid(records, offset)) {
        missed = saturatedAdd(missed, 1);
        continue;
      }
      view.bind(records, offset);
      visitor.visit(view);
      visited++;
    }
    delivered += visited;
    totalLost = saturatedAdd(totalLost, missed);
    lastLost = missed;
    return visited;
  }

  /** How many events went by unread during the last read, of either kind. */
  public long lastLost() {
    return lastLost;
  }

  private static long saturatedAdd(long a, long b) {
    long sum = a + b;
    return sum < 0 ? Long.MAX_VALUE : sum;
  }

  /**
   * Where this reader stands in each lane of each ring, after every event it has delivered (see
   * {@link RingPosition}): what a consumer
   * saves, together with what it made of those events, to go on later with {@link
   * TeardownChannel#resume}.
   */
  public List<RingPosition> positions() {
    return reader.positions();
  }

  /** Most events one read returns. */
  public int batchSize() {
    return batchSize;
  }

  /** Events this reader has delivered so far. */
  public long delivered() {
    return delivered;
  }

  /** Events this reader has counted as lost so far. */
  public long lost() {
    return totalLost;
  }

  @Override
  public void close() {
    reader.close();
  }

  /**
   * One read's result.
   *
   * @param events the events, oldest first
   * @param lost how many events went by unread since the previous read
   * @param lostByUser of those, how many were in each user's rings (by user name; a loss in one
   *     user's rings says nothing of another's events). Can sum to less than {@code lost} where a
   *     ring's owner is not known.
   */
  public record Batch(List<TeardownEvent> events, long lost, java.util.Map<String, Long> lostByUser) {
    static final Batch EMPTY = new Batch(List.of(), 0);

    public Batch {
      events = List.copyOf(events);
      lostByUser = java.util.Map.copyOf(lostByUser);
      if (lost < 0) {
        throw new IllegalArgumentException("lost must not be negative");
      }
    }

    /** A batch whose losses are nobody's in particular. */
    public Batch(List<TeardownEvent> events, long lost) {
      this(events, lost, java.util.Map.of());
    }

    public boolean isEmpty() {
      return events.isEmpty() && lost == 0;
    }
  }
}
