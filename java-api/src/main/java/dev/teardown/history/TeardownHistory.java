package dev.teardown.history;

import dev.teardown.api.CloseMode;
import dev.teardown.api.ConnectionSummary;
import dev.teardown.api.Ending;
import dev.teardown.api.EventFlag;
import dev.teardown.api.EventKind;
import dev.teardown.api.FramingError;
import dev.teardown.api.Initiator;
import dev.teardown.api.TcpState;
import dev.teardown.api.ShutdownHow;
import dev.teardown.api.TeardownEvent;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * A history database a recorder wrote ({@code teardown record}), read: connections with their
 * verdicts, the losses, and what the recorder has done. Safe to open while a recorder writes to
 * the same file; each call sees what was committed when it began.
 */
public final class TeardownHistory implements AutoCloseable {
  /** How far apart in time two ends of one connection may have been recorded. */
  private static final long PARTNER_SLACK_NANOS = 2_000_000_000L;
  private static final int PAGE = 512;

  private final Path file;
  private final Connection connection;
  private final String endColumns;
  private final String gapUser;  // the column saying whose rings a gap's events were in, or NULL

  private TeardownHistory(Path file, Connection connection) {
    this.file = file;
    this.connection = connection;
    int schema;
    try {
      schema = HistoryFile.schema(connection);
    } catch (SQLException e) {
      HistoryFile.closeQuietly(connection);
      throw HistoryFile.failure(file, e);
    }
    this.endColumns = endColumns(schema);
    this.gapUser = schema >= 5 ? "user" : "NULL";
  }

  /**
   * Opens a history for reading.
   *
   * @throws HistoryException when there is none, or it is not a history, damaged, or of a newer
   *     schema
   */
  public static TeardownHistory open(Path database) {
    Objects.requireNonNull(database, "database");
    return new TeardownHistory(database, HistoryFile.open(database, false, false));
  }

  /** The database file. */
  public Path file() {
    return file;
  }

  /** The connections {@code query} matches, oldest first, each judged. */
  public List<RecordedConnection> connections(HistoryQuery query) {
    List<RecordedConnection> found = new ArrayList<>();
    forEachConnection(query, found::add);
    return found;
  }

  /**
   * Hands each connection {@code query} matches to {@code consumer}, oldest (or newest) first, without
   * holding them all: for reports and exports over the whole history.
   */
  public void forEachConnection(HistoryQuery query, Consumer<RecordedConnection> consumer) {
    Objects.requireNonNull(query, "query");
    try {
      forEachMatch(query, query.limit(), ends -> consumer.accept(judge(ends)));
    } catch (SQLException e) {
      throw HistoryFile.failure(file, e);
    }
  }

  /**
   * How many connections {@code query} matches, its limit aside, counting up to {@code atMost}:
   * a result above {@code atMost} says only that there are more. Each is counted as {@link
   * #forEachConnection} would deliver it, without judging it.
   */
  public long countConnections(HistoryQuery query, long atMost) {
    Objects.requireNonNull(query, "query");
    long[] counted = {0};
    try {
      forEachMatch(query, atMost == Long.MAX_VALUE ? atMost : atMost + 1, ends -> counted[0]++);
    } catch (SQLException e) {
      throw HistoryFile.failure(file, e);
    }
    return counted[0];
  }

  /** Each matching connection's recorded ends, in the query's order, at most {@code most} of them. */
  private interface EndsConsumer {
    void accept(List<EndRow> ends) throws SQLException;
  }

  private void forEachMatch(HistoryQuery query, long most, EndsConsumer consumer) throws SQLException {
    HistoryQuery.Peer peer = query.peer() == null ? null : HistoryQuery.Peer.parse(query.peer());
    long delivered = 0;
    long afterId = query.newestFirst() ? Long.MAX_VALUE : 0;
    while (delivered < most) {
      List<EndRow> page = matchingEnds(query, peer, afterId);
      if (page.isEmpty()) {
        return;
      }
      afterId = page.get(page.size() - 1).id;
      for (EndRow end : page) {
        EndRow partner = partnerOf(end);
        // A pair is delivered once: from its lower-numbered end when both match the query.
        if (partner != null && partner.id < end.id && matches(partner, query, peer)) {
          continue;
        }
        consumer.accept(partner == null ? List.of(end) : List.of(end, partner));
        if (++delivered >= most) {
          return;
        }
      }
    }
  }

  /** Losses recorded between {@code from} and {@code to} (either may be null: unbounded). */
  public List<Gap> gaps(Instant from, Instant to) {
    try {
      return gapsBetween(from == null ? Long.MIN_VALUE : TeardownEvent.epochNanos(from),
          to == null ? Long.MAX_VALUE : TeardownEvent.epochNanos(to));
    } catch (SQLException e) {
      throw HistoryFile.failure(file, e);
    }
  }

  /**
   * What the history holds.
   *
   * @param events events recorded, over the history's life (retention does not lower it)
   * @param lost events the rings overwrote before the recorder read them
   * @param ends connection ends held now
   * @param lastEvent the newest event recorded, or null
   * @param lastCommit when the recorder last committed, or null
   * @param fileBytes the database's size on disk, with its write-ahead log
   */
  public record Summary(long events, long lost, long ends, Instant lastEvent, Instant lastCommit, long fileBytes) {}

  public Summary summary() {
    try {
      Map<String, Long> counters = HistoryWriter.counters(connection);
      long ends;
      try (Statement statement = connection.createStatement();
          ResultSet result = statement.executeQuery("SELECT count(*) FROM ends")) {
        ends = result.next() ? result.getLong(1) : 0;
      }
      return new Summary(
          counters.getOrDefault("events_recorded", 0L),
          counters.getOrDefault("events_lost", 0L),
          ends,
          instant(counters.getOrDefault("last_event_ns", 0L)),
          instant(counters.getOrDefault("last_commit_ns", 0L)),
          fileBytes(file));
    } catch (SQLException e) {
      throw HistoryFile.failure(file, e);
    }
  }

  /** The process names recorded, each once, in order, at most {@code limit} of them. */
  public List<String> processNames(int limit) {
    List<String> names = new ArrayList<>();
    try (PreparedStatement statement = connection.prepareStatement(
        "SELECT DISTINCT process FROM ends ORDER BY process COLLATE NOCASE LIMIT ?")) {
      statement.setInt(1, limit);
      try (ResultSet result = statement.executeQuery()) {
        while (result.next()) {
          names.add(result.getString(1));
        }
      }
    } catch (SQLException e) {
      throw HistoryFile.failure(file, e);
    }
    return names;
  }

  /**
   * The process recording into {@code database} now, as its lock file names it and if that
   * process is alive; empty when no recorder runs.
   */
  public static java.util.OptionalLong recorderPid(Path database) {
    Path lock = RecorderLock.lockFile(database);
    try {
      String text = Files.readString(lock, java.nio.charset.StandardCharsets.US_ASCII).trim();
      if (!text.matches("[0-9]{1,19}")) {
        return java.util.OptionalLong.empty();
      }
      long pid = Long.parseLong(text);
      boolean alive = ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
      return alive ? java.util.OptionalLong.of(pid) : java.util.OptionalLong.empty();
    } catch (java.io.IOException | NumberFormatException e) {
      return java.util.OptionalLong.empty();
    }
  }

  /** The database's size on disk: the file and its write-ahead log. */
  public static long fileBytes(Path database) {
    long total = 0;
    for (Path part : List.of(database, database.resolveSibling(database.getFileName() + "-wal"))) {
      try {
        total += Files.size(part);
      } catch (java.io.IOException e) {
        // absent: nothing to count
      }
    }
    return total;
  }

  @Override
  public void close() {
    HistoryFile.closeQuietly(connection);
  }

  // ---- reading rows ------------------------------------------------------------------------

  private record EndRow(
      long id, String user, long pid, String process, long socketId, int protocol, int socketType,
      String localAddr, Integer localPort, String remoteAddr, Integer remotePort, long firstNanos,
      long lastNanos, int state, Long lifetimeNanos, Long bytesSent, Long bytesReceived,
      String firstShutdown, String ending, long firstSeq, int eventCount, byte[] events, String kernelState) {

    /** When the socket was made: its close's lifetime says, else its first record. */
    long startNanos() {
      return lifetimeNanos != null && lifetimeNanos > 0 ? Math.min(firstNanos, lastNanos - lifetimeNanos) : firstNanos;
    }
  }

  private static final String END_COLUMNS_2 =
      "id, user, pid, process, socket_id, protocol, socket_type, local_addr, local_port, remote_addr,"
          + " remote_port, first_ns, last_ns, state, lifetime_ns, bytes_sent, bytes_received, first_shutdown, ending,"
          + " first_seq, event_count, events";
  /** The columns read of each end: a history of schema 2 or older has no kernel state. */
  private static String endColumns(int schema) {
    return END_COLUMNS_2 + (schema >= 3 ? ", kernel_state" : ", NULL");
  }

  private static EndRow endRow(ResultSet result) throws SQLException {
    return new EndRow(
        result.getLong(1), result.getString(2), result.getLong(3), result.getString(4), result.getLong(5),
        result.getInt(6), result.getInt(7), result.getString(8), (Integer) result.getObject(9),
        result.getString(10), (Integer) result.getObject(11), result.getLong(12), result.getLong(13),
        result.getInt(14), longOrNull(result, 15), longOrNull(result, 16), longOrNull(result, 17),
        result.getString(18), result.getString(19), result.getLong(20), result.getInt(21), result.getBytes(22),
        result.getString(23));
  }

  private static Long longOrNull(ResultSet result, int column) throws SQLException {
    Object value = result.getObject(column);
    return value == null ? null : ((Number) value).longValue();
  }

  private List<EndRow> matchingEnds(HistoryQuery query, HistoryQuery.Peer peer, long afterId) throws SQLException {
    // Pages by id, upwards or (newest first) downwards from afterId.
    StringBuilder sql = new StringBuilder("SELECT " + endColumns + " FROM ends WHERE id " + (query.newestFirst() ? "<" : ">") + " ?");
    List<Object> args = new ArrayList<>();
    args.add(afterId);
    if (query.port() != null) {
      sql.append(" AND (local_port = ? OR remote_port = ?)");
      args.add(query.port());
      args.add(query.port());
    }
    if (query.pid() != null) {
      sql.append(" AND pid = ?");
      args.add(query.pid());
    }
    if (query.process() != null) {
      // A prefix, in any case: "python3" is python3.11 too. LIKE's wildcards in the name are
      // taken as themselves.
      sql.append(" AND process LIKE ? ESCAPE '\\'");
      args.add(query.process().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%");
    }
    if (peer != null) {
      sql.append(" AND (remote_addr = ?");
      args.add(peer.host());
      if (peer.port() != null) {
        sql.append(" AND remote_port = ?");
        args.add(peer.port());
      }
      sql.append(")");
    }
    if (query.since() != null) {
      sql.append(" AND last_ns >= ?");
      args.add(TeardownEvent.epochNanos(query.since()));
    }
    if (query.before() != null) {
      sql.append(" AND last_ns < ?");
      args.add(TeardownEvent.epochNanos(query.before()));
    }
    sql.append(" ORDER BY id").append(query.newestFirst() ? " DESC" : "").append(" LIMIT ").append(PAGE);
    List<EndRow> rows = new ArrayList<>();
    try (PreparedStatement statement = connection.prepareStatement(sql.toString())) {
      for (int i = 0; i < args.size(); i++) {
        statement.setObject(i + 1, args.get(i));
      }
      try (ResultSet result = statement.executeQuery()) {
        while (result.next()) {
          rows.add(endRow(result));
        }
      }
    }
    return rows;
  }

  private static boolean matches(EndRow end, HistoryQuery query, HistoryQuery.Peer peer) {
    if (query.port() != null
        && !query.port().equals(end.localPort()) && !query.port().equals(end.remotePort())) {
      return false;
    }
    if (query.pid() != null && query.pid() != end.pid()) {
      return false;
    }
    if (query.process() != null && !end.process().regionMatches(true, 0, query.process(), 0, query.process().length())) {
      return false;
    }
    if (peer != null
        && (!peer.host().equals(end.remoteAddr()) || peer.port() != null && !peer.port().equals(end.remotePort()))) {
      return false;
    }
    if (query.before() != null && end.lastNanos() >= TeardownEvent.epochNanos(query.before())) {
      return false;
    }
    return query.since() == null || end.lastNanos() >= TeardownEvent.epochNanos(query.since());
  }

  /** The other end of the same connection, when it too was recorded. */
  private EndRow partnerOf(EndRow end) throws SQLException {
    if (end.localAddr() == null || end.remoteAddr() == null || end.localPort() == null || end.remotePort() == null) {
      return null;
    }
    String sql = "SELECT " + endColumns + " FROM ends WHERE local_port = ? AND local_addr = ? AND remote_port = ?"
        + " AND remote_addr = ? AND id <> ? AND first_ns <= ? AND last_ns >= ?";
    EndRow best = null;
    try (PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setInt(1, end.remotePort());
      statement.setString(2, end.remoteAddr());
      statement.setInt(3, end.localPort());
      statement.setString(4, end.localAddr());
      statement.setLong(5, end.id());
      statement.setLong(6, end.lastNanos() + PARTNER_SLACK_NANOS);
      statement.setLong(7, end.startNanos() - PARTNER_SLACK_NANOS);
      try (ResultSet result = statement.executeQuery()) {
        while (result.next()) {
          EndRow candidate = endRow(result);
          if (!candidate.user().equals(end.user()) && !consistent(end, candidate)) {
            continue;  // another user's claim that this end's own record contradicts
          }
          if (best == null || distance(candidate, end) < distance(best, end)) {
            best = candidate;
          }
        }
      }
    }
    return best;
  }

  /** How far apart two ends' closes may be and both still have closed first (FINs crossing). */
  static final long BOTH_FIRST_NANOS = 10_000_000L;

  /**
   * Whether two closed ends' records can be of one connection: neither received more than the
   * other sent, and they do not both say they closed first at moments too far apart for their
   * FINs to have crossed (an end whose peer had closed long before would have seen it). Any user
   * can publish an end that claims to be the other side of someone else's connection; a claim the
   * end's own record contradicts is not joined to it, so it cannot change its verdict.
   */
  static boolean consistent(EndRow a, EndRow b) {
    if (a.bytesSent() != null && b.bytesReceived() != null && b.bytesReceived() > a.bytesSent()) {
      return false;
    }
    if (b.bytesSent() != null && a.bytesReceived() != null && a.bytesReceived() > b.bytesSent()) {
      return false;
    }
    boolean bothFirst = "LOCAL".equals(a.firstShutdown()) && "LOCAL".equals(b.firstShutdown());
    return !bothFirst || Math.abs(a.lastNanos() - b.lastNanos()) <= BOTH_FIRST_NANOS;
  }

  private static long distance(EndRow a, EndRow b) {
    return Math.abs(a.lastNanos() - b.lastNanos());
  }

  private RecordedConnection judge(List<EndRow> rows) throws SQLException {
    List<RecordedEnd> ends = new ArrayList<>();
    long start = Long.MAX_VALUE;
    long end = Long.MIN_VALUE;
    for (EndRow row : rows) {
      ends.add(recordedEnd(row));
      start = Math.min(start, row.startNanos());
      end = Math.max(end, row.lastNanos());
    }
    // A loss in one user's rings says nothing of another's events: only gaps of the ends' own
    // users (or of no known user) touch this connection.
    java.util.Set<String> users = new java.util.HashSet<>();
    for (RecordedEnd recorded : ends) {
      users.add(recorded.user());
    }
    List<Gap> gaps = gapsBetween(start, end);
    gaps.removeIf(gap -> gap.user() != null && !users.contains(gap.user()));
    return Verdicts.judge(ends, gaps);
  }

  private RecordedEnd recordedEnd(EndRow row) throws SQLException {
    InetSocketAddress local = address(row.localAddr(), row.localPort());
    InetSocketAddress remote = address(row.remoteAddr(), row.remotePort());
    ConnectionSummary summary = null;
    if (row.state() == HistoryWriter.STATE_CLOSED && row.lifetimeNanos() != null) {
      summary = new ConnectionSummary(
          Duration.ofNanos(row.lifetimeNanos()),
          row.bytesSent() == null ? 0 : row.bytesSent(),
          row.bytesReceived() == null ? 0 : row.bytesReceived(),
          enumOr(Initiator.class, row.firstShutdown(), Initiator.NONE),
          enumOr(Ending.class, row.ending(), Ending.NONE),
          enumOr(TcpState.class, row.kernelState(), TcpState.UNKNOWN));
    }
    List<TeardownEvent> events = Timeline.read(row.events(), row.firstSeq(), row.user(), row.pid(), row.process(),
        row.socketId(), row.protocol(), row.socketType(), local, remote, summary);
    RecordedEnd.State state = switch (row.state()) {
      case HistoryWriter.STATE_CLOSED -> RecordedEnd.State.CLOSED;
      case HistoryWriter.STATE_ABANDONED -> RecordedEnd.State.ABANDONED;
      case HistoryWriter.STATE_PROCESS_ENDED -> RecordedEnd.State.PROCESS_ENDED;
      default -> RecordedEnd.State.OPEN;
    };
    return new RecordedEnd(
        row.id(), row.user(), row.pid(), row.process(), row.socketId(), local, remote,
        at(row.firstNanos()), at(row.lastNanos()), state, summary, events);
  }

  private List<Gap> gapsBetween(long from, long to) throws SQLException {
    List<Gap> gaps = new ArrayList<>();
    try (PreparedStatement statement = connection.prepareStatement(
        "SELECT after_ns, before_ns, lost, " + gapUser + " FROM gaps WHERE before_ns >= ? AND after_ns <= ? ORDER BY after_ns")) {
      statement.setLong(1, from);
      statement.setLong(2, to);
      try (ResultSet result = statement.executeQuery()) {
        while (result.next()) {
          gaps.add(new Gap(instant(result.getLong(1)), instant(result.getLong(2)), result.getLong(3), result.getString(4)));
        }
      }
    }
    return gaps;
  }

  private static InetSocketAddress address(String host, Integer port) {
    if (host == null || port == null) {
      return null;
    }
    try {
      return new InetSocketAddress(InetAddress.getByName(host), port);  // a literal: no lookup
    } catch (UnknownHostException e) {
      return InetSocketAddress.createUnresolved(host, port);
    }
  }

  /** A time an end has, whatever it is (a row dated 0 by a producer's clock, before re-dating, included). */
  private static Instant at(long nanos) {
    return Instant.ofEpochSecond(Math.floorDiv(nanos, 1_000_000_000L), Math.floorMod(nanos, 1_000_000_000L));
  }

  private static Instant instant(long nanos) {
    return nanos == 0 ? null : Instant.ofEpochSecond(Math.floorDiv(nanos, 1_000_000_000L), Math.floorMod(nanos, 1_000_000_000L));
  }

  private static <E extends Enum<E>> E enumOr(Class<E> type, String name, E fallback) {
    if (name == null) {
      return fallback;
    }
    try {
      return Enum.valueOf(type, name.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      return fallback;
    }
  }
}
