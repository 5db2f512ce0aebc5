package dev.teardown.history;

import dev.teardown.api.EventReader;
import dev.teardown.api.TeardownChannel;
import dev.teardown.api.TeardownEvent;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Drains every ring of a channel into a history database until stopped. Each commit holds a run
 * of events, the losses before them and the reader's positions after them, so that a recorder
 * killed at any moment and started again goes on from its last commit: nothing committed is lost
 * or recorded twice, and what the rings overwrote meanwhile is recorded as a gap. Retention (by
 * age and by size) is enforced as it goes. One recorder per database.
 */
public final class Recorder implements AutoCloseable {
  /**
   * How a recorder keeps its history.
   *
   * @param maxAge connections whose last event is older are dropped
   * @param maxBytes the database's pages in use are kept under this
   * @param commitEvery longest time events wait in memory before they are committed
   * @param retentionEvery how often retention is enforced
   */
  public record Options(Duration maxAge, long maxBytes, Duration commitEvery, Duration retentionEvery) {
    /** 30 days, 1 GiB, commits at least every 200 ms, retention every minute. */
    public static final Options DEFAULT =
        new Options(Duration.ofDays(30), 1L << 30, Duration.ofMillis(200), Duration.ofMinutes(1));

    public Options {
      Objects.requireNonNull(maxAge, "maxAge");
      Objects.requireNonNull(commitEvery, "commitEvery");
      Objects.requireNonNull(retentionEvery, "retentionEvery");
      if (maxAge.isNegative() || maxAge.isZero()) {
        throw new IllegalArgumentException("the retention age must be positive: " + maxAge);
      }
      if (maxBytes < 1 << 20) {
        throw new IllegalArgumentException("the retention size must be at least 1 MiB: " + maxBytes + " bytes");
      }
      if (commitEvery.isNegative() || retentionEvery.isNegative() || retentionEvery.isZero()) {
        throw new IllegalArgumentException("commit and retention intervals must be positive");
      }
    }

    public Options withMaxAge(Duration age) {
      return new Options(age, maxBytes, commitEvery, retentionEvery);
    }

    public Options withMaxBytes(long bytes) {
      return new Options(maxAge, bytes, commitEvery, retentionEvery);
    }

    public Options withRetentionEvery(Duration every) {
      return new Options(maxAge, maxBytes, commitEvery, every);
    }
  }

  /**
   * What a recorder has done.
   *
   * @param recorded events in the history (over every recorder of this database, less none:
   *     retention does not lower it)
   * @param lost events the rings overwrote before any recorder read them
   * @param lastEvent the time of the newest event recorded, or null
   * @param openEnds connection ends whose close is not recorded yet
   */
  public record Progress(long recorded, long lost, Instant lastEvent, int openEnds) {}

  private static final int BATCH = 8192;
  /** Events held before a commit, whatever the time. */
  private static final int COMMIT_EVENTS = 65536;
  private static final long IDLE_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
  /** How often open ends are checked for a process that ended without closing them. */
  private static final long PROCESS_SWEEP_NANOS = TimeUnit.SECONDS.toNanos(1);
  /** How long an end must have been quiet before its process's end is taken as its own. */
  private static final long PROCESS_QUIET_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final Path database;
  private final Options options;
  private final RecorderLock lock;
  private final HistoryWriter writer;
  private final EventReader reader;
  private final CountDownLatch finished = new CountDownLatch(1);
  /** Which processes live (the system's; tests give their own). */
  HistoryWriter.Processes processes = HistoryWriter.Processes.SYSTEM;
  private volatile boolean stopping;
  private volatile Progress progress;

  private Recorder(Path database, Options options, RecorderLock lock, HistoryWriter writer, EventReader reader) {
    this.database = database;
    this.options = options;
    this.lock = lock;
    this.writer = writer;
    this.reader = reader;
    publishProgress();
  }

  /**
   * A recorder of {@code channel} into {@code database}, made if absent, going on from the
   * database's last commit. A new database begins with the oldest event each ring holds now;
   * losses are counted from there (and from the first event of a ring made later).
   *
   * @throws HistoryException when the database is another recorder's, damaged, not a history,
   *     or of a newer schema
   */
  public static Recorder open(TeardownChannel channel, Path database, Options options) {
    Objects.requireNonNull(channel, "channel");
    Objects.requireNonNull(options, "options");
    RecorderLock lock = RecorderLock.acquire(database);
    HistoryWriter writer = null;
    try {
      writer = new HistoryWriter(database);
      EventReader reader = channel.resume(writer.positions(), BATCH, Duration.ofMillis(100));
      return new Recorder(database, options, lock, writer, reader);
    } catch (RuntimeException e) {
      if (writer != null) {
        writer.close();
      }
      lock.abandon();
      throw e;
    }
  }

  /** The database recorded into. */
  public Path database() {
    return database;
  }

  /** What has been recorded so far, as of the last commit. */
  public Progress progress() {
    return progress;
  }

  /**
   * Records until {@link #stop()}, then commits what it holds and returns. Retention runs once at
   * the start and then every {@link Options#retentionEvery()}.
   *
   * @throws HistoryException when the database cannot be written (the disk is full, the file
   *     was damaged): what was committed stays
   */
  public void run() {
    try {
      List<TeardownEvent> pending = new ArrayList<>();
      long pendingLost = 0;
      java.util.Map<String, Long> pendingLostByUser = new java.util.HashMap<>();
      long lastCommit = System.nanoTime();
      long nextRetention = System.nanoTime();
      long nextSweep = System.nanoTime() + PROCESS_SWEEP_NANOS;
      long idle = 0;
      while (true) {
        boolean last = stopping;
        if (System.nanoTime() - nextRetention >= 0) {
          writer.enforceRetention(options.maxAge().toNanos(), options.maxBytes(), wallNanos());
          nextRetention = System.nanoTime() + options.retentionEvery().toNanos();
        }
        if (System.nanoTime() - nextSweep >= 0) {
          // Ends whose process is gone: committed with what comes next, or now if nothing does.
          if (writer.endWithTheirProcesses(wallNanos(), PROCESS_QUIET_NANOS, processes) > 0 && pending.isEmpty()) {
            writer.commit(List.of(), 0, reader.positions(), wallNanos());
          }
          nextSweep = System.nanoTime() + PROCESS_SWEEP_NANOS;
        }
        EventReader.Batch batch = reader.read();
        long readAt = wallNanos();
        for (TeardownEvent event : batch.events()) {
          pending.add(withinClock(event, readAt));
        }
        pendingLost = saturatedAdd(pendingLost, batch.lost());
        batch.lostByUser().forEach((user, count) -> pendingLostByUser.merge(user, count, Recorder::saturatedAdd));
        boolean quiet = batch.isEmpty();
        boolean held = !pending.isEmpty() || pendingLost > 0;
        if (held
            && (last || quiet || pending.size() >= COMMIT_EVENTS
                || System.nanoTime() - lastCommit >= options.commitEvery().toNanos())) {
          writer.commit(pending, pendingLost, pendingLostByUser, reader.positions(), wallNanos());
          pending.clear();
          pendingLost = 0;
          pendingLostByUser.clear();
          lastCommit = System.nanoTime();
          publishProgress();
        }
        if (last) {
          return;  // what was read is committed; under load there is always more
        }
        if (quiet) {
          idle = Math.min(IDLE_WAIT_NANOS, Math.max(100_000, idle * 2));
          LockSupport.parkNanos(idle);
        } else {
          idle = 0;
        }
      }
    } finally {
      finished.countDown();
    }
  }

  /**
   * {@code event}, dated when it was read if its own time is outside the recorder's clock: later
   * than a second after the read, or older than the history keeps. A producer's clock is its own
   * (any user can date an event anywhere): a date from the future or the distant past would stay
   * in the history past its retention, push real rows out and reorder a connection's ends.
   */
  private TeardownEvent withinClock(TeardownEvent event, long readAt) {
    long earliest = readAt - Math.min(options.maxAge().toNanos(), readAt);
    long time = event.timeNanos();
    return time > readAt + CLOCK_SLACK_NANOS || time < earliest ? event.withTime(readAt) : event;
  }

  /** How far ahead of the recorder's clock a producer's may be (clocks are read at different moments). */
  static final long CLOCK_SLACK_NANOS = 1_000_000_000L;

  /** Asks {@link #run()} to commit what it holds and return. */
  public void stop() {
    stopping = true;
  }

  /** Stops, and waits up to {@code timeout} for the last commit; true when it was made. */
  public boolean stopAndWait(Duration timeout) throws InterruptedException {
    stop();
    return finished.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Enforces retention now (also done as the recorder runs); returns the ends dropped. */
  public long enforceRetention() {
    return writer.enforceRetention(options.maxAge().toNanos(), options.maxBytes(), wallNanos());
  }

  @Override
  public void close() {
    reader.close();
    writer.close();
    lock.close();
  }

  private void publishProgress() {
    long last = writer.lastEventNanos();
    progress = new Progress(
        writer.eventsRecorded(),
        writer.eventsLost(),
        last == 0 ? null : Instant.ofEpochSecond(0, last),
        writer.openEnds());
  }

  private static long wallNanos() {
    return TeardownEvent.epochNanos(Instant.now());
  }

  private static long saturatedAdd(long a, long b) {
    long sum = a + b;
    return sum < 0 ? Long.MAX_VALUE : sum;
  }
}
