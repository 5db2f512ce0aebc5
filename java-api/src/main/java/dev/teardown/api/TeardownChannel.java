package dev.teardown.api;

import dev.teardown.api.internal.ConfigCodec;
import dev.teardown.api.internal.EventEncoder;
import dev.teardown.api.internal.EventRecordLayout;
import dev.teardown.api.internal.NativeChannel;
import dev.teardown.api.internal.NativeCounters;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A Teardown channel: the shared memory through which every layer on this machine publishes its
 * teardown events and reads its configuration. Open one with {@link #open()}, read with
 * {@link #reader(ReadFrom)} or {@link #subscribe}, and change the configuration live with
 * {@link #configure(Configuration)}.
 *
 * <p>Thread-safe. Closing the channel does not disturb producers or other readers.
 */
public final class TeardownChannel implements AutoCloseable {
  /** Where a new reader starts. */
  public enum ReadFrom {
    /** The oldest event still held by the channel. */
    OLDEST,
    /** Only events published after the reader is made. */
    NEWEST
  }

  private final NativeChannel channel;
  private final Path path;
  private final java.util.Set<Subscription> subscriptions = new java.util.HashSet<>();

  private TeardownChannel(NativeChannel channel) {
    this.channel = channel;
    this.path = Path.of(channel.path());
  }

  /**
   * Opens the machine's channel: {@code $TEARDOWN_CHANNEL}, else the system channel ({@code
   * /dev/shm/teardown} on Linux once an administrator made it with {@code teardown init}, {@code
   * %ProgramData%\Teardown} on Windows once {@code teardown install} made it), else on Linux the
   * user's private channel, {@code $XDG_RUNTIME_DIR/teardown}.
   *
   * @throws TeardownException NOT_FOUND if no channel exists there
   */
  public static TeardownChannel open() {
    return new TeardownChannel(NativeChannel.open(null, false, 0));
  }

  /** Opens the channel in {@code directory}. */
  public static TeardownChannel open(Path directory) {
    return new TeardownChannel(NativeChannel.open(text(directory), false, 0));
  }

  /**
   * Opens the channel in {@code directory}, creating what is absent of it (or repairing a damaged
   * configuration). A sound channel is reused as it is. An administrator's channel takes every
   * user's events; anyone else's only their own.
   *
   * @param slots events each user's ring holds before readers lose the oldest: a power of two
   *     from 64 to 1048576, used only when the configuration is created. A ring of 8192 or more
   *     is divided into a lane per CPU (up to four, each of 4096 or more), and one thread's
   *     events are held up to its lane's share
   */
  public static TeardownChannel create(Path directory, int slots) {
    if (slots < 64 || slots > 1 << 20 || Integer.bitCount(slots) != 1) {
      throw new IllegalArgumentException("slots must be a power of two in 64..1048576: " + slots);
    }
    return new TeardownChannel(NativeChannel.open(text(directory), true, slots));
  }

  /** {@link #create(Path, int)} with 16384 slots. */
  public static TeardownChannel create(Path directory) {
    return new TeardownChannel(NativeChannel.open(text(directory), true, 0));
  }

  /**
   * Creates (or reuses) the channel in the default location. Only an administrator may make the
   * system channel; anyone else makes their private one (ACCESS_DENIED where there is none).
   */
  public static TeardownChannel createDefault() {
    return new TeardownChannel(NativeChannel.open(null, true, 0));
  }

  /** {@link #createDefault()}, with {@code slots} per user's ring when the channel is made. */
  public static TeardownChannel createDefault(int slots) {
    if (slots < 64 || slots > 1 << 20 || Integer.bitCount(slots) != 1) {
      throw new IllegalArgumentException("slots must be a power of two in 64..1048576: " + slots);
    }
    return new TeardownChannel(NativeChannel.open(null, true, slots));
  }

  private static String text(Path directory) {
    return Objects.requireNonNull(directory, "directory").toString();
  }

  /** The directory holding the channel's files. */
  public Path path() {
    return path;
  }

  /**
   * How many events each user's ring holds: the most a reader can fall behind on one user
   * without loss (of one thread's events, its lane's share: see {@link #create(Path, int)}).
   */
  public int capacity() {
    return channel.capacity();
  }

  /**
   * How many of one thread's events a ring made on this machine holds while no reader reads: its
   * lane's share of {@link #capacity()} (a lane per CPU, up to four, none under 4096 slots). Two
   * busy threads that share a lane share this too.
   */
  public int laneCapacity() {
    return channel.laneCapacity();
  }

  /**
   * The producers' counters, exact across every process, added up over the rings this user
   * may read (an administrator: every user's).
   */
  public Counters counters() {
    NativeCounters counters = channel.counters();
    Map<EventKind, Long> published = new EnumMap<>(EventKind.class);
    for (EventKind kind : EventKind.values()) {
      published.put(kind, counters.per_kind[kind.code()]);
    }
    return new Counters(counters.produced, counters.dropped, published);
  }

  /**
   * The live configuration.
   *
   * @throws TeardownException NOT_FOUND when the channel has none, CORRUPT when it is damaged
   */
  public Configuration configuration() {
    return ConfigCodec.fromNative(channel.readConfig());
  }

  /** Who owns the configuration, and so whose programs honour it. */
  public ConfigurationOwner configurationOwner() {
    int[] flags = new int[1];
    String owner = channel.configOwner(flags);
    int bits = flags[0];
    return new ConfigurationOwner((bits & 0x1) != 0, (bits & 0x2) != 0, owner, (bits & 0x4) != 0,
        (bits & 0x8) != 0, (bits & 0x10) != 0);
  }

  /**
   * The configuration programs of every user apply: the live one if every user's programs honour
   * it, else the defaults (see {@link ConfigurationOwner}).
   */
  public Configuration effectiveConfiguration() {
    return configurationOwner().honouredByEveryone() ? configuration() : Configuration.DEFAULT;
  }

  /**
   * Replaces the live configuration; every producer applies it on its next call.
   *
   * @throws TeardownException ACCESS_DENIED when this user may not change it
   */
  public void configure(Configuration configuration) {
    channel.writeConfig(ConfigCodec.toNative(Objects.requireNonNull(configuration, "configuration")));
  }

  /** Publishes an event as a producer would; the channel assigns its sequence. */
  public void publish(TeardownEvent event) {
    ByteBuffer record = ByteBuffer.allocate(EventRecordLayout.SIZE).order(ByteOrder.LITTLE_ENDIAN);
    EventEncoder.encode(Objects.requireNonNull(event, "event"), record, 0);
    channel.publish(record);
  }

  /** A reader with its own position, reading up to 1024 events per call. */
  public EventReader reader(ReadFrom from) {
    return reader(from, 1024, Duration.ofMillis(100));
  }

  /**
   * A reader with its own position.
   *
   * @param batchSize most events returned by one {@link EventReader#read()}, 1 to 65536
   * @param stallTimeout how long an event whose producer stopped half way may hold the reader
   *     back before it is counted as lost
   */
  public EventReader reader(ReadFrom from, int batchSize, Duration stallTimeout) {
    checkBatchSize(batchSize);
    int stallMs = stallMillis(stallTimeout);
    return new EventReader(channel.reader(from == ReadFrom.OLDEST, batchSize, stallMs), batchSize);
  }

  private static void checkBatchSize(int batchSize) {
    if (batchSize < 1 || batchSize > 1 << 16) {
      throw new IllegalArgumentException("batchSize must be in 1..65536: " + batchSize);
    }
  }

  private static int stallMillis(Duration stallTimeout) {
    long stallMs = stallTimeout.toMillis();
    if (stallMs < 1 || stallMs > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("stallTimeout must be at least 1 ms: " + stallTimeout);
    }
    return (int) stallMs;
  }

  /**
   * A reader that goes on exactly where an earlier one stopped: each lane of each ring among
   * {@code positions} (all of those saved from {@link EventReader#positions()}) is read from its
   * first undelivered event, and what the lane overwrote meanwhile is counted lost by the first
   * read; every other ring (made since, or made again in place) is read from its first event.
   * With no positions, every ring is read from its oldest event.
   */
  public EventReader resume(List<RingPosition> positions, int batchSize, Duration stallTimeout) {
    Objects.requireNonNull(positions, "positions");
    checkBatchSize(batchSize);
    int stallMs = stallMillis(stallTimeout);
    if (positions.isEmpty()) {
      return new EventReader(channel.reader(true, batchSize, stallMs), batchSize);
    }
    return new EventReader(channel.resume(List.copyOf(positions), batchSize, stallMs), batchSize);
  }

  /**
   * Delivers events to {@code listener} on a daemon thread until the subscription is closed.
   * The listener is called with each non-empty batch, in order. A quiet channel is read at least
   * every {@link Subscription#DEFAULT_LONGEST_WAIT} (500 us): an event reaches the listener
   * within about a millisecond of its publication.
   */
  public Subscription subscribe(ReadFrom from, TeardownListener listener) {
    return subscribe(from, listener, Subscription.DEFAULT_LONGEST_WAIT);
  }

  /**
   * As {@link #subscribe(ReadFrom, TeardownListener)}, with the longest wait between reads of a
   * quiet channel chosen: shorter for lower latency (each read of a quiet channel costs a few
   * microseconds of CPU), longer for less CPU.
   */
  public Subscription subscribe(ReadFrom from, TeardownListener listener, Duration longestWait) {
    Objects.requireNonNull(listener, "listener");
    Objects.requireNonNull(longestWait, "longestWait");
    synchronized (subscriptions) {
      Subscription subscription = new Subscription(reader(from), listener, longestWait, this::forget);
      subscriptions.add(subscription);
      return subscription;
    }
  }

  private void forget(Subscription subscription) {
    synchronized (subscriptions) {
      subscriptions.remove(subscription);
    }
  }

  /**
   * Closes the channel: its live subscriptions end first, quietly (each listener's current call
   * may finish, up to a second), then no call of this channel or its readers works any more.
   */
  @Override
  public void close() {
    List<Subscription> live;
    synchronized (subscriptions) {
      live = new java.util.ArrayList<>(subscriptions);
    }
    live.forEach(Subscription::close);
    channel.close();
  }

  @Override
  public String toString() {
    return "TeardownChannel[" + path + "]";
  }
}
