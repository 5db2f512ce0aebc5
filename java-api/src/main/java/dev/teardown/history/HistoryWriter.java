package dev.teardown.history;

import dev.teardown.api.ConnectionSummary;
import dev.teardown.api.TcpState;
import dev.teardown.api.EventFlag;
import dev.teardown.api.EventKind;
import dev.teardown.api.RingPosition;
import dev.teardown.api.TeardownEvent;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The recorder's side of a history: each batch of events (packed into their ends' rows, see
 * {@link Timeline}), with the losses and the reader's
 * positions after it, in one transaction. A process killed at any point leaves either all of a
 * batch or none of it, and the positions saved say exactly where to read on. One writer per file
 * (the recorder's lock sees to that), so end numbers are handed out here.
 */
final class HistoryWriter implements AutoCloseable {
  /** Ends kept open in memory; past this the least recently seen is given up (ABANDONED). */
  static final int MAX_OPEN_ENDS = 200_000;
  /**
   * Ends of one user kept open; past this that user's oldest is given up (ABANDONED): a user who
   * leaves connections open by the hundred thousand gives up their own, never another's.
   */
  static final int MAX_OPEN_ENDS_PER_USER = 50_000;
  /** Bytes of one user's open ends' timelines held in memory before captures are left out (see append). */
  static final long MAX_OPEN_BYTES_PER_USER = 16L << 20;

  static final int STATE_OPEN = 0;
  static final int STATE_CLOSED = 1;
  static final int STATE_ABANDONED = 2;
  static final int STATE_PROCESS_ENDED = 3;

  private final Path file;
  private final Connection connection;
  private final PreparedStatement insertEnd;
  private final PreparedStatement updateEnd;
  private final PreparedStatement insertGap;
  private final PreparedStatement forgetPositions;
  private final PreparedStatement savePosition;
  private final PreparedStatement saveCounter;
  /** Open ends by (user, pid, socket), least recently seen first. */
  private final LinkedHashMap<EndKey, OpenEnd> open = new LinkedHashMap<>(1024, 0.75f, true);
  /** Each user's open ends, oldest first (with ends no longer open among them, skipped and compacted away). */
  private final Map<String, java.util.ArrayDeque<OpenEnd>> openByUser = new HashMap<>();
  private final Map<String, Integer> openCount = new HashMap<>();
  /** Bytes of the timelines of each user's open ends, held in memory. */
  private final Map<String, Long> openBytes = new HashMap<>();
  private final int maxOpenPerUser;
  private final List<OpenEnd> touched = new ArrayList<>();
  private long nextEndId;
  private long eventsRecorded;
  private long eventsLost;
  private long lastEventNanos;

  HistoryWriter(Path file) {
    this(file, MAX_OPEN_ENDS_PER_USER);
  }

  HistoryWriter(Path file, int maxOpenPerUser) {
    this.file = file;
    this.maxOpenPerUser = maxOpenPerUser;
    this.connection = HistoryFile.open(file, true, true);
    try {
      try (Statement statement = connection.createStatement()) {
        statement.execute("PRAGMA journal_mode = WAL");
        // Commits survive the recorder's death; only a power cut may take the last few.
        statement.execute("PRAGMA synchronous = NORMAL");
        // The indexes' pages stay in memory: 64 MiB at most.
        statement.execute("PRAGMA cache_size = -65536");
      }
      connection.setAutoCommit(false);
      insertEnd = connection.prepareStatement(
          "INSERT INTO ends(id, user, pid, process, socket_id, protocol, socket_type, local_addr, local_port,"
              + " remote_addr, remote_port, first_ns, last_ns, state, lifetime_ns, bytes_sent, bytes_received,"
              + " first_shutdown, ending, first_seq, event_count, events, kernel_state)"
              + " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
      updateEnd = connection.prepareStatement(
          "UPDATE ends SET local_addr = ?, local_port = ?, remote_addr = ?, remote_port = ?, last_ns = ?,"
              + " state = ?, lifetime_ns = ?, bytes_sent = ?, bytes_received = ?, first_shutdown = ?,"
              + " ending = ?, event_count = ?, events = ?, kernel_state = ? WHERE id = ?");
      insertGap = connection.prepareStatement("INSERT INTO gaps(after_ns, before_ns, lost, user) VALUES (?,?,?,?)");
      forgetPositions = connection.prepareStatement("DELETE FROM positions WHERE ring = ?");
      savePosition = connection.prepareStatement(
          "INSERT INTO positions(ring, generation, next_sequence) VALUES (?,?,?)");
      saveCounter = connection.prepareStatement("INSERT OR REPLACE INTO recorder(key, value) VALUES (?,?)");
      load();
    } catch (SQLException e) {
      HistoryFile.closeQuietly(connection);
      throw HistoryFile.failure(file, e);
    }
  }

  private void load() throws SQLException {
    try (Statement statement = connection.createStatement()) {
      try (ResultSet result = statement.executeQuery("SELECT coalesce(max(id), 0) + 1 FROM ends")) {
        result.next();
        nextEndId = result.getLong(1);
      }
      try (ResultSet result = statement.executeQuery("SELECT key, value FROM recorder")) {
        while (result.next()) {
          switch (result.getString(1)) {
            case "events_recorded" -> eventsRecorded = result.getLong(2);
            case "events_lost" -> eventsLost = result.getLong(2);
            case "last_event_ns" -> lastEventNanos = result.getLong(2);
            default -> {}
          }
        }
      }
      try (ResultSet result = statement.executeQuery(
          "SELECT id, user, pid, socket_id, local_addr, local_port, remote_addr, remote_port, first_ns, last_ns,"
              + " event_count, events FROM ends WHERE state = " + STATE_OPEN + " ORDER BY last_ns")) {
        while (result.next()) {
          OpenEnd end = new OpenEnd(result.getLong(1), result.getLong(9));
          end.stored = true;
          end.eventCount = result.getInt(11);
          byte[] packed = result.getBytes(12);
          end.timeline.write(packed == null ? new byte[0] : packed, 0, packed == null ? 0 : packed.length);
          end.localAddr = result.getString(5);
          end.localPort = (Integer) result.getObject(6);
          end.remoteAddr = result.getString(7);
          end.remotePort = (Integer) result.getObject(8);
          end.lastNanos = result.getLong(10);
          addOpen(new EndKey(result.getString(2), result.getLong(3), result.getLong(4)), end);
        }
      }
    }
    connection.commit();
  }

  /** Where the previous recorder stopped: the positions of its last commit. */
  List<RingPosition> positions() {
    List<RingPosition> positions = new ArrayList<>();
    try (Statement statement = connection.createStatement();
        ResultSet result = statement.executeQuery("SELECT ring, generation, next_sequence FROM positions")) {
      while (result.next()) {
        // A name no ring can have (saved by an older recorder that read any name): no ring to read
        // on, so nothing to resume.
        if (RingPosition.isRingName(result.getString(1))) {
          positions.add(new RingPosition(result.getString(1), result.getLong(2), result.getLong(3)));
        }
      }
      connection.commit();
    } catch (SQLException e) {
      throw HistoryFile.failure(file, e);
    }
    return positions;
  }

  long eventsRecorded() {
    return eventsRecorded;
  }

  long eventsLost() {
    return eventsLost;
  }

  long lastEventNanos() {
    return lastEventNanos;
  }

  /** Bytes of {@code user}'s open ends' timelines held in memory. */
  long openBytes(String user) {
    return openBytes.getOrDefault(user, 0L);
  }

  int openEnds() {
    return open.size();
  }

  /**
   * Records {@code events} (oldest first), {@code lost} events that went by before them, and the
   * reader's {@code positions} after them, all or nothing. {@code nowNanos} dates a loss seen
   * with no event after it.
   */
  void commit(List<TeardownEvent> events, long lost, List<RingPosition> positions, long nowNanos) {
    commit(events, lost, Map.of(), positions, nowNanos);
  }

  /** The same, with how many of the {@code lost} were each user's (the rest: nobody known's). */
  void commit(List<TeardownEvent> events, long lost, Map<String, Long> lostByUser, List<RingPosition> positions,
      long nowNanos) {
    try {
      if (lost > 0) {
        long before = events.isEmpty() ? nowNanos : events.get(0).timeNanos();
        long unattributed = lost;
        for (Map.Entry<String, Long> user : new java.util.TreeMap<>(lostByUser).entrySet()) {
          long count = Math.min(user.getValue(), unattributed);
          if (count > 0) {
            insertGap(before, count, user.getKey());
            unattributed -= count;
          }
        }
        if (unattributed > 0) {
          insertGap(before, unattributed, null);
        }
      }
      long seq = eventsRecorded;
      for (TeardownEvent event : events) {
        OpenEnd end = endOf(event, seq++);
        if (end.eventCount++ < Timeline.MAX_EVENTS) {
          append(end, event);
        }
      }
      // Ends first seen in this commit are written once, as they stand now; others updated.
      for (OpenEnd end : touched) {
        if (end.stored) {
          bindEndUpdate(end);
          updateEnd.addBatch();
        } else {
          bindEndInsert(end);
          insertEnd.addBatch();
        }
      }
      insertEnd.executeBatch();
      updateEnd.executeBatch();
      for (OpenEnd end : touched) {
        end.touched = false;
        end.stored = true;
      }
      touched.clear();
      // A ring's positions (one per lane) replace all it had; rings the reader did not report
      // this time (one damaged a moment) keep theirs.
      Set<String> rings = new HashSet<>();
      for (RingPosition position : positions) {
        if (rings.add(position.ring())) {
          forgetPositions.setString(1, position.ring());
          forgetPositions.addBatch();
        }
      }
      forgetPositions.executeBatch();
      for (RingPosition position : positions) {
        savePosition.setString(1, position.ring());
        savePosition.setLong(2, position.generation());
        savePosition.setLong(3, position.nextSequence());
        savePosition.addBatch();
      }
      savePosition.executeBatch();
      eventsRecorded += events.size();
      eventsLost = saturatedAdd(eventsLost, lost);
      if (!events.isEmpty()) {
        lastEventNanos = Math.max(lastEventNanos, events.get(events.size() - 1).timeNanos());
      }
      saveCounter("events_recorded", eventsRecorded);
      saveCounter("events_lost", eventsLost);
      saveCounter("last_event_ns", lastEventNanos);
      saveCounter("last_commit_ns", nowNanos);
      connection.commit();
    } catch (SQLException e) {
      rollbackQuietly();
      throw HistoryFile.failure(file, e);
    }
  }

  private void insertGap(long before, long lost, String user) throws SQLException {
    insertGap.setLong(1, lastEventNanos);
    insertGap.setLong(2, Math.max(before, lastEventNanos));
    insertGap.setLong(3, lost);
    insertGap.setString(4, user);
    insertGap.executeUpdate();
  }

  private void saveCounter(String key, long value) throws SQLException {
    saveCounter.setString(1, key);
    saveCounter.setLong(2, value);
    saveCounter.executeUpdate();
  }

  /**
   * Adds {@code event} to its end's timeline. The timelines of a user's open ends are held in
   * memory: past {@link #MAX_OPEN_BYTES_PER_USER} of them, that user's events are kept without the
   * bytes they captured, and past half as much again they are counted, not kept, until ends close.
   */
  private void append(OpenEnd end, TeardownEvent event) {
    long held = end.live ? openBytes.getOrDefault(end.user, 0L) : 0;
    if (held > MAX_OPEN_BYTES_PER_USER * 3 / 2) {
      return;
    }
    TeardownEvent kept = held > MAX_OPEN_BYTES_PER_USER ? event.withoutCaptured() : event;
    int before = end.timeline.size();
    Timeline.append(end.timeline, kept);
    if (end.live) {
      openBytes.merge(end.user, (long) (end.timeline.size() - before), Long::sum);
    }
  }

  /** Keeps {@code end} open under {@code key}; past its user's bound, that user's oldest open end is given up. */
  private void addOpen(EndKey key, OpenEnd end) {
    end.key = key;
    end.user = key.user();
    end.live = true;
    open.put(key, end);
    openBytes.merge(key.user(), (long) end.timeline.size(), Long::sum);
    java.util.ArrayDeque<OpenEnd> order = openByUser.computeIfAbsent(key.user(), u -> new java.util.ArrayDeque<>());
    order.addLast(end);
    int count = openCount.merge(key.user(), 1, Integer::sum);
    if (count > maxOpenPerUser) {
      OpenEnd oldest = order.pollFirst();
      while (oldest != null && !oldest.live) {
        oldest = order.pollFirst();
      }
      if (oldest != null) {
        oldest.state = STATE_ABANDONED;
        touch(oldest);
        open.remove(oldest.key);
        oldest.live = false;
        openCount.merge(key.user(), -1, Integer::sum);
        openBytes.merge(key.user(), -(long) oldest.timeline.size(), Long::sum);
      }
    } else if (order.size() > 2 * count + 1024) {
      order.removeIf(e -> !e.live);  // ends closed since: not kept for ever
    }
  }

  /** {@code end} is no longer open. */
  private void removeOpen(OpenEnd end) {
    open.remove(end.key);
    forgetOpen(end);
  }

  /** {@code end}, already out of {@link #open}, no longer counts as its user's. */
  private void forgetOpen(OpenEnd end) {
    if (!end.live) {
      return;
    }
    end.live = false;
    String user = end.key.user();
    openBytes.merge(user, -(long) end.timeline.size(), Long::sum);
    if (openCount.merge(user, -1, Integer::sum) <= 0) {
      openCount.remove(user);
      openByUser.remove(user);
      openBytes.remove(user);
    }
  }

  /** The end an event belongs to: its socket's open end, or a new one. */
  private OpenEnd endOf(TeardownEvent event, long seq) {
    EndKey key = new EndKey(event.user() == null ? "" : event.user(), event.pid(), event.socketId());
    OpenEnd end = open.get(key);
    InetSocketAddress remote = event.remote();
    // Most events repeat the address their end already has: compared as it is, made text once.
    boolean sameRemote = end != null && remote != null && remote.equals(end.remoteSeen);
    String remoteAddr = remote == null || sameRemote ? null : host(remote);
    Integer remotePort = port(remote);
    if (end != null && !sameRemote && end.remoteAddr != null && remoteAddr != null
        && (!end.remoteAddr.equals(remoteAddr) || !Objects.equals(end.remotePort, remotePort))) {
      // The handle now carries another connection: the old one's close never reached us.
      end.state = STATE_ABANDONED;
      touch(end);
      removeOpen(end);
      end = null;
    }
    if (end == null) {
      end = new OpenEnd(nextEndId++, event.timeNanos());
      end.firstSeq = seq;
      end.user = key.user();
      end.pid = event.pid();
      end.process = event.processName() == null ? "" : event.processName();
      end.socketId = event.socketId();
      end.protocol = event.protocol();
      end.socketType = event.socketType();
      end.lastNanos = event.timeNanos();
      end.localAddr = host(event.local());
      end.localPort = port(event.local());
      end.remoteAddr = remoteAddr;
      end.remotePort = remotePort;
      addOpen(key, end);
      if (open.size() > MAX_OPEN_ENDS) {
        OpenEnd eldest = open.values().iterator().next();
        eldest.state = STATE_ABANDONED;
        touch(eldest);
        removeOpen(eldest);
      }
    }
    if (end.localAddr == null && event.local() != null) {
      end.localAddr = host(event.local());
      end.localPort = port(event.local());
    }
    if (end.remoteAddr == null && remoteAddr != null) {
      end.remoteAddr = remoteAddr;
      end.remotePort = remotePort;
    }
    if (remote != null && remoteAddr != null && remoteAddr.equals(end.remoteAddr)
        && Objects.equals(remotePort, end.remotePort)) {
      end.remoteSeen = remote;
    }
    end.lastNanos = Math.max(end.lastNanos, event.timeNanos());
    if (event.kind() == EventKind.CLOSE || event.kind() == EventKind.CONNECT_FAILED) {
      end.state = STATE_CLOSED;
      end.summary = event.summary();
      removeOpen(end);
    }
    touch(end);
    return end;
  }

  /**
   * Ends still open whose process has ended (killed, crashed: it closed nothing the layer saw), and
   * that have been quiet since {@code quietNanos} before {@code nowNanos}, so that the process's
   * last events were read first: marked as ended with their process, written by the next commit.
   * A pid the system has given to a process started after the end's first event is another's.
   *
   * @return how many were marked
   */
  int endWithTheirProcesses(long nowNanos, long quietNanos, Processes processes) {
    Map<Long, Boolean> alive = new HashMap<>();
    int marked = 0;
    for (var iterator = open.entrySet().iterator(); iterator.hasNext(); ) {
      var entry = iterator.next();
      OpenEnd end = entry.getValue();
      if (nowNanos - end.lastNanos < quietNanos) {
        continue;
      }
      long pid = entry.getKey().pid();
      boolean lives = alive.computeIfAbsent(pid, p -> processes.alive(p, end.firstNanos));
      if (lives) {
        continue;
      }
      end.state = STATE_PROCESS_ENDED;
      touch(end);
      iterator.remove();
      forgetOpen(end);
      marked++;
    }
    return marked;
  }

  /** Whether a process lives: the recorder's view of the system's processes. */
  interface Processes {
    /** Whether process {@code pid}, started no later than {@code sinceNanos} (wall clock), lives. */
    boolean alive(long pid, long sinceNanos);

    /** The system's processes, as {@link ProcessHandle} sees them. */
    Processes SYSTEM = (pid, sinceNanos) -> ProcessHandle.of(pid)
        .map(handle -> handle.info().startInstant()
            // A start after the end's first event (with a second for the clock's grain): the pid
            // was reused, and the end's process is gone.
            .map(start -> TeardownEvent.epochNanos(start) <= sinceNanos + 1_000_000_000L)
            .orElse(true))
        .orElse(false);
  }

  private void touch(OpenEnd end) {
    if (!end.touched) {
      end.touched = true;
      touched.add(end);
    }
  }

  private void bindEndInsert(OpenEnd end) throws SQLException {
    insertEnd.setLong(1, end.id);
    insertEnd.setString(2, end.user);
    insertEnd.setLong(3, end.pid);
    insertEnd.setString(4, end.process);
    insertEnd.setLong(5, end.socketId);
    insertEnd.setInt(6, end.protocol);
    insertEnd.setInt(7, end.socketType);
    setText(insertEnd, 8, end.localAddr);
    setInt(insertEnd, 9, end.localPort);
    setText(insertEnd, 10, end.remoteAddr);
    setInt(insertEnd, 11, end.remotePort);
    insertEnd.setLong(12, end.firstNanos);
    insertEnd.setLong(13, end.lastNanos);
    insertEnd.setInt(14, end.state);
    bindSummary(insertEnd, 15, end.summary);
    insertEnd.setLong(20, end.firstSeq);
    insertEnd.setInt(21, end.eventCount);
    insertEnd.setBytes(22, end.timeline.toByteArray());
    bindKernelState(insertEnd, 23, end.summary);
  }

  /** The close's summary into five columns from {@code first}: lifetime, bytes both ways, who, how. */
  private static void bindSummary(PreparedStatement statement, int first, ConnectionSummary summary)
      throws SQLException {
    if (summary == null) {
      for (int i = 0; i < 5; i++) {
        statement.setNull(first + i, i < 3 ? Types.INTEGER : Types.VARCHAR);
      }
      return;
    }
    statement.setLong(first, summary.lifetime().toNanos());
    statement.setLong(first + 1, summary.bytesSent());
    statement.setLong(first + 2, summary.bytesReceived());
    statement.setString(first + 3, summary.firstShutdown().name());
    statement.setString(first + 4, summary.ending().name());
  }

  /** The kernel's state at close, when it was read: null otherwise. */
  private static void bindKernelState(PreparedStatement statement, int column, ConnectionSummary summary)
      throws SQLException {
    if (summary == null || summary.kernelState() == TcpState.UNKNOWN) {
      statement.setNull(column, Types.VARCHAR);
    } else {
      statement.setString(column, summary.kernelState().name());
    }
  }

  private void bindEndUpdate(OpenEnd end) throws SQLException {
    setText(updateEnd, 1, end.localAddr);
    setInt(updateEnd, 2, end.localPort);
    setText(updateEnd, 3, end.remoteAddr);
    setInt(updateEnd, 4, end.remotePort);
    updateEnd.setLong(5, end.lastNanos);
    updateEnd.setInt(6, end.state);
    bindSummary(updateEnd, 7, end.summary);
    updateEnd.setInt(12, end.eventCount);
    updateEnd.setBytes(13, end.timeline.toByteArray());
    bindKernelState(updateEnd, 14, end.summary);
    updateEnd.setLong(15, end.id);
  }

  /**
   * Keeps the history within {@code maxAge} of {@code nowNanos} and {@code maxBytes} of pages in
   * use, dropping whole ends (with their events) oldest first; the pages freed are reused by what
   * is recorded next, and the write-ahead log is emptied.
   * Returns how many ends were dropped.
   */
  long enforceRetention(long maxAgeNanos, long maxBytes, long nowNanos) {
    long dropped = 0;
    try {
      long cutoff = nowNanos - maxAgeNanos;
      dropped += dropEndsBefore(cutoff);
      // Rows dated ahead of the clock (a producer's, taken as it was by recorders before they
      // re-dated such events) would outlive every real one: gone now.
      dropped += dropEndsAfter(nowNanos + FUTURE_NANOS);
      for (int round = 0; round < 64 && usedBytes() > maxBytes; round++) {
        // Fair to every user: the oldest tenth (at least one end) of the user with the most ends,
        // until under the limit. A user who floods the history gives up their own rows first.
        String user;
        long total;
        try (Statement statement = connection.createStatement();
            ResultSet most = statement.executeQuery(
                "SELECT user, count(*) FROM ends GROUP BY user ORDER BY count(*) DESC LIMIT 1")) {
          if (!most.next()) {
            break;
          }
          user = most.getString(1);
          total = most.getLong(2);
        }
        long skip = Math.max(1, total / 10) - 1;
        long oldest;
        try (PreparedStatement statement = connection.prepareStatement(
            "SELECT last_ns FROM ends WHERE user = ? ORDER BY last_ns LIMIT 1 OFFSET " + skip)) {
          statement.setString(1, user);
          try (ResultSet result = statement.executeQuery()) {
            oldest = result.next() ? result.getLong(1) : Long.MAX_VALUE;
          }
        }
        dropped += dropUserEndsBefore(user, oldest + 1);
      }
      connection.commit();
      if (dropped > 0) {
        try (Statement statement = connection.createStatement()) {
          connection.setAutoCommit(true);
          statement.execute("PRAGMA wal_checkpoint(TRUNCATE)");
        } finally {
          connection.setAutoCommit(false);
        }
      }
    } catch (SQLException e) {
      rollbackQuietly();
      throw HistoryFile.failure(file, e);
    }
    return dropped;
  }

  /** Open ends whose rows retention deleted: no longer open. */
  private void forgetOpenWhere(java.util.function.Predicate<OpenEnd> deleted) {
    open.values().removeIf(end -> {
      if (!deleted.test(end)) {
        return false;
      }
      forgetOpen(end);
      return true;
    });
  }

  /** How far ahead of the recorder's clock a row may be dated and stay. */
  static final long FUTURE_NANOS = 60_000_000_000L;

  private long dropEndsAfter(long limit) throws SQLException {
    return dropEnds("last_ns > ?", "after_ns > ?", limit, end -> end.lastNanos > limit);
  }

  private long dropUserEndsBefore(String user, long cutoff) throws SQLException {
    long dropped;
    try (PreparedStatement ends = connection.prepareStatement("DELETE FROM ends WHERE user = ? AND last_ns < ?")) {
      ends.setString(1, user);
      ends.setLong(2, cutoff);
      dropped = ends.executeUpdate();
    }
    if (dropped > 0) {
      forgetOpenWhere(end -> user.equals(end.user) && end.lastNanos < cutoff);
    }
    return dropped;
  }

  private long dropEndsBefore(long cutoff) throws SQLException {
    return dropEnds("last_ns < ?", "before_ns < ?", cutoff, end -> end.lastNanos < cutoff);
  }

  /**
   * Deletes the ends {@code endsWhere} selects and the gaps {@code gapsWhere} selects (each with
   * {@code bound} for its one parameter); the open ends among them, which {@code deleted} tells,
   * are open no more.
   */
  private long dropEnds(String endsWhere, String gapsWhere, long bound, java.util.function.Predicate<OpenEnd> deleted)
      throws SQLException {
    long dropped;
    try (PreparedStatement ends = connection.prepareStatement("DELETE FROM ends WHERE " + endsWhere);
        PreparedStatement gaps = connection.prepareStatement("DELETE FROM gaps WHERE " + gapsWhere)) {
      ends.setLong(1, bound);
      dropped = ends.executeUpdate();
      gaps.setLong(1, bound);
      gaps.executeUpdate();
    }
    if (dropped > 0) {
      forgetOpenWhere(deleted);
    }
    return dropped;
  }

  /** Bytes of the database's pages in use (not counting free pages). */
  long usedBytes() throws SQLException {
    return (scalar("PRAGMA page_count") - scalar("PRAGMA freelist_count")) * scalar("PRAGMA page_size");
  }

  private long scalar(String sql) throws SQLException {
    try (Statement statement = connection.createStatement(); ResultSet result = statement.executeQuery(sql)) {
      return result.next() ? result.getLong(1) : 0;
    }
  }

  private void rollbackQuietly() {
    try {
      connection.rollback();
    } catch (SQLException ignored) {
      // the failure that led here is what is reported
    }
    // What was not committed is read again from the rings; the cache must not remember it.
    open.clear();
    openByUser.clear();
    openCount.clear();
    openBytes.clear();
    touched.clear();
    try {
      load();
    } catch (SQLException ignored) {
      // the next commit reports the database's state
    }
  }

  @Override
  public void close() {
    try {
      connection.commit();
      try (Statement statement = connection.createStatement()) {
        connection.setAutoCommit(true);
        statement.execute("PRAGMA wal_checkpoint(TRUNCATE)");
      }
    } catch (SQLException e) {
      // closing: whatever was committed stays committed
    } finally {
      HistoryFile.closeQuietly(connection);
    }
  }

  static String host(InetSocketAddress address) {
    if (address == null) {
      return null;
    }
    return address.getAddress() != null ? address.getAddress().getHostAddress() : address.getHostString();
  }

  static Integer port(InetSocketAddress address) {
    return address == null ? null : address.getPort();
  }

  private static void setText(PreparedStatement statement, int index, String value) throws SQLException {
    if (value == null) {
      statement.setNull(index, Types.VARCHAR);
    } else {
      statement.setString(index, value);
    }
  }

  private static void setInt(PreparedStatement statement, int index, Integer value) throws SQLException {
    if (value == null) {
      statement.setNull(index, Types.INTEGER);
    } else {
      statement.setInt(index, value);
    }
  }

  private static long saturatedAdd(long a, long b) {
    long sum = a + b;
    return sum < 0 ? Long.MAX_VALUE : sum;
  }

  private record EndKey(String user, long pid, long socketId) {}

  private static final class OpenEnd {
    final long id;
    final long firstNanos;
    long lastNanos;
    String localAddr;
    Integer localPort;
    String remoteAddr;
    Integer remotePort;
    InetSocketAddress remoteSeen;  // the address remoteAddr and remotePort were made from
    int state = STATE_OPEN;
    ConnectionSummary summary;
    boolean touched;
    boolean stored;  // its row is in the database (written by an earlier commit)
    final java.io.ByteArrayOutputStream timeline = new java.io.ByteArrayOutputStream(64);
    int eventCount;
    long firstSeq;
    String user;
    long pid;
    String process;
    long socketId;
    int protocol;
    int socketType;
    EndKey key;  // while open: its key in open
    boolean live;  // in open

    OpenEnd(long id, long firstNanos) {
      this.id = id;
      this.firstNanos = firstNanos;
    }
  }

  static Map<String, Long> counters(Connection connection) throws SQLException {
    Map<String, Long> counters = new HashMap<>();
    try (Statement statement = connection.createStatement();
        ResultSet result = statement.executeQuery("SELECT key, value FROM recorder")) {
      while (result.next()) {
        counters.put(result.getString(1), result.getLong(2));
      }
    }
    return counters;
  }
}
