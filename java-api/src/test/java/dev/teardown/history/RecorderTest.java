package dev.teardown.history;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.teardown.api.CloseMode;
import dev.teardown.api.Ending;
import dev.teardown.api.EventKind;
import dev.teardown.api.Initiator;
import dev.teardown.api.RingPosition;
import dev.teardown.api.TeardownChannel;
import dev.teardown.api.TeardownEvent;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The recorder in this process: what it stores, how it goes on after a stop, losses, retention, bad files. */
class RecorderTest {
  @TempDir Path dir;

  private Path db() {
    return dir.resolve("history.db");
  }

  /** Runs a recorder of {@code channel} until it has recorded {@code events} in all, then stops it. */
  private Recorder.Progress record(TeardownChannel channel, long events, Recorder.Options options) throws Exception {
    return record(channel, db(), events, options);
  }

  private Recorder.Progress record(TeardownChannel channel, Path database, long events) throws Exception {
    return record(channel, database, events, Recorder.Options.DEFAULT);
  }

  private Recorder.Progress record(TeardownChannel channel, Path database, long events, Recorder.Options options)
      throws Exception {
    try (Recorder recorder = Recorder.open(channel, database, options)) {
      Thread thread = new Thread(recorder::run);
      thread.start();
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (recorder.progress().recorded() < events && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertTrue(recorder.stopAndWait(Duration.ofSeconds(10)), "the recorder stops when asked");
      thread.join();
      return recorder.progress();
    }
  }

  private static void publish(TeardownChannel channel, EndScript... ends) {
    for (EndScript end : ends) {
      for (TeardownEvent event : end.events()) {
        channel.publish(event);
      }
    }
  }

  @Test
  void bothEndsOfALoopbackConnectionAreJoinedAndJudged() throws Exception {
    try (TeardownChannel channel = TeardownChannel.create(dir.resolve("channel"), 1024)) {
      publish(channel,
          new EndScript(100, "client", 3, 50000, 8080).close(10, CloseMode.ABORTIVE, Initiator.LOCAL, Ending.ABORTIVE),
          new EndScript(200, "server", 7, 8080, 50000).remote(11, EventKind.RESET)
              .close(12, CloseMode.GRACEFUL, Initiator.REMOTE, Ending.ABORTIVE),
          new EndScript(300, "other", 9, 40000, 443).remote(5, EventKind.EOF)
              .close(6, CloseMode.GRACEFUL, Initiator.REMOTE, Ending.GRACEFUL));
      assertEquals(5, record(channel, 5, Recorder.Options.DEFAULT).recorded());
    }
    try (TeardownHistory history = TeardownHistory.open(db())) {
      List<RecordedConnection> all = history.connections(HistoryQuery.ALL);
      assertEquals(2, all.size(), "two connections, the loopback one joined: " + all);
      RecordedConnection reset = history.connections(HistoryQuery.ALL.withPort(8080)).get(0);
      assertEquals(Cause.LINGER_ZERO_CLOSE, reset.cause());
      assertEquals(Mechanism.RST, reset.mechanism());
      assertEquals(new InetSocketAddress("127.0.0.1", 50000), reset.initiator());
      assertEquals(2, reset.ends().size());
      assertEquals("client", reset.ends().get(0).process());
      assertEquals(3, reset.events().size());
      assertEquals(RecordedEnd.State.CLOSED, reset.ends().get(1).state());
      assertEquals(List.of(), history.connections(HistoryQuery.ALL.withProcess("nobody")));
      assertEquals(1, history.connections(HistoryQuery.ALL.withProcess("SERVER")).size(), "names match in any case");
      assertEquals(1, history.connections(HistoryQuery.ALL.withPeer("127.0.0.1:443")).size());
      assertEquals(1, history.connections(HistoryQuery.ALL.withPid(300L)).size());
      assertEquals(1, history.connections(HistoryQuery.ALL.withPid(300)).size(), "a plain long, as a pid is");
      assertEquals(1, history.connections(HistoryQuery.ALL.withPeer(new InetSocketAddress("127.0.0.1", 443))).size(),
          "addresses as the records hold them");
      assertEquals(2, history.connections(HistoryQuery.ALL.withPeer(java.net.InetAddress.getLoopbackAddress())).size());
      assertThrows(IllegalArgumentException.class,
          () -> HistoryQuery.ALL.withPeer(InetSocketAddress.createUnresolved("example.com", 443)));
      assertEquals(List.of(all.get(1), all.get(0)), history.connections(HistoryQuery.latest(2)), "newest first");
      TeardownHistory.Summary summary = history.summary();
      assertEquals(5, summary.events());
      assertEquals(0, summary.lost());
      assertEquals(3, summary.ends());
      assertNotNull(summary.lastEvent());
    }
  }

  @Test
  void anEndWhoseProcessEndedWithoutClosingItEndsWithItsProcess() throws Exception {
    try (TeardownChannel channel = TeardownChannel.create(dir.resolve("channel"), 1024)) {
      publish(channel,
          new EndScript(100, "worker", 3, 50000, 8080).connected(1),  // killed with it open
          new EndScript(200, "server", 7, 8080, 50000).accepted().connected(1).remote(20, EventKind.EOF)
              .close(21, CloseMode.GRACEFUL, Initiator.REMOTE, Ending.GRACEFUL),
          new EndScript(300, "alive", 9, 40000, 443).connected(1));
      try (Recorder recorder = Recorder.open(channel, db(), Recorder.Options.DEFAULT)) {
        recorder.processes = (pid, since) -> pid != 100;
        Thread thread = new Thread(recorder::run);
        thread.start();
        Thread.sleep(2_500);  // a sweep a second, after the events were read
        assertTrue(recorder.stopAndWait(Duration.ofSeconds(10)));
        thread.join();
      }
    }
    try (TeardownHistory history = TeardownHistory.open(db())) {
      RecordedConnection killed = history.connections(HistoryQuery.ALL.withPort(8080)).get(0);
      assertEquals(Cause.PROCESS_KILLED, killed.cause(), killed.toString());
      assertEquals(new InetSocketAddress("127.0.0.1", 50000), killed.initiator());
      assertEquals(Mechanism.FIN, killed.mechanism(), "the server read the system's FIN");
      assertEquals(RecordedEnd.State.PROCESS_ENDED, killed.ends().get(0).state());
      assertEquals("worker", killed.ends().get(0).process());
      RecordedConnection open = history.connections(HistoryQuery.ALL.withPort(443)).get(0);
      assertEquals(RecordedEnd.State.OPEN, open.ends().get(0).state(), "its process lives");
      assertEquals(Cause.OPEN, open.cause());
    }
  }

  /** The graceful closes of ends {@code from} (inclusive) to {@code to}, each its own port from 50000. */
  private static void publishCloses(TeardownChannel channel, int from, int to) {
    for (int i = from; i < to; i++) {
      publish(channel, new EndScript(100, "client", i, 50000 + i, 8080).close(i, CloseMode.GRACEFUL, Initiator.LOCAL, Ending.GRACEFUL));
    }
  }

  /** Each of {@code threads} publishes the closes of {@code perThread} ends, ports from {@code firstPort}. */
  private static void publishFromThreads(TeardownChannel channel, int threads, int perThread, int firstPort)
      throws InterruptedException {
    List<Thread> started = new java.util.ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int base = firstPort + t * perThread;
      Thread thread = new Thread(() -> {
        for (int i = 0; i < perThread; i++) {
          publish(channel, new EndScript(100, "client", base + i, base + i, 8080)
              .close(i, CloseMode.GRACEFUL, Initiator.LOCAL, Ending.GRACEFUL));
        }
      });
      thread.start();
      started.add(thread);
    }
    for (Thread thread : started) {
      thread.join();
    }
  }

  private long[] savedPositions() throws Exception {
    try (Connection sql = DriverManager.getConnection("jdbc:sqlite:" + db());
        Statement statement = sql.createStatement();
        java.sql.ResultSet rows = statement.executeQuery("SELECT next_sequence FROM positions ORDER BY next_sequence")) {
      List<Long> all = new java.util.ArrayList<>();
      while (rows.next()) {
        all.add(rows.getLong(1));
      }
      return all.stream().mapToLong(Long::longValue).toArray();
    }
  }

  @Test
  void aRestartedRecorderGoesOnInEveryLaneOfARing() throws Exception {
    // Rings this size have two lanes or more, and threads started one after another publish
    // into different lanes.
    try (TeardownChannel channel = TeardownChannel.create(dir.resolve("channel"), 8192)) {
      publishFromThreads(channel, 2, 10, 50000);
      assertEquals(20, record(channel, 20, Recorder.Options.DEFAULT).recorded());
      long[] positions = savedPositions();
      org.junit.jupiter.api.Assumptions.assumeTrue(positions.length >= 2, "one CPU: rings have a single lane");
      long lanesWithEvents = java.util.Arrays.stream(positions).filter(next -> next >= positions.length).count();
      assertEquals(2, lanesWithEvents, "two lanes were written: " + java.util.Arrays.toString(positions));
      publishFromThreads(channel, 2, 10, 51000);
      Recorder.Progress progress = record(channel, 40, Recorder.Options.DEFAULT);
      assertEquals(40, progress.recorded(), "the twenty new ones, once");
      assertEquals(0, progress.lost());
      assertEquals(positions.length, savedPositions().length, "each lane's position replaced, none added");
    }
    try (TeardownHistory history = TeardownHistory.open(db())) {
      assertEquals(40, history.connections(HistoryQuery.ALL).size());
    }
  }

  @Test
  void aRecorderUpgradesAHistoryOfOnePositionPerRingKeepingThePositions() throws Exception {
    try (TeardownChannel channel = TeardownChannel.create(dir.resolve("channel"), 64)) {
      publishCloses(channel, 0, 10);
      assertEquals(10, record(channel, 10, Recorder.Options.DEFAULT).recorded());
      // What a recorder of schema 1 left: one row per ring, keyed by the ring's name.
      try (Connection sql = DriverManager.getConnection("jdbc:sqlite:" + db());
          Statement statement = sql.createStatement()) {
        statement.execute("ALTER TABLE positions RENAME TO positions_2");
        statement.execute("DROP INDEX positions_ring");
        statement.execute("CREATE TABLE positions(ring TEXT PRIMARY KEY, generation INTEGER NOT NULL,"
            + " next_sequence INTEGER NOT NULL)");
        statement.execute("INSERT INTO positions SELECT * FROM positions_2");
        statement.execute("DROP TABLE positions_2");
        statement.execute("ALTER TABLE ends DROP COLUMN kernel_state");
        statement.execute("ALTER TABLE gaps DROP COLUMN user");
        statement.execute("PRAGMA user_version = 1");
      }
      try (TeardownHistory history = TeardownHistory.open(db())) {
        assertEquals(10, history.connections(HistoryQuery.ALL).size(), "readers read schema 1 as it is");
      }
      publishCloses(channel, 10, 15);
      assertEquals(15, record(channel, 15, Recorder.Options.DEFAULT).recorded(), "the five new ones, once");
      try (Connection sql = DriverManager.getConnection("jdbc:sqlite:" + db());
          Statement statement = sql.createStatement();
          java.sql.ResultSet version = statement.executeQuery("PRAGMA user_version")) {
        assertTrue(version.next());
        assertEquals(HistoryFile.SCHEMA, version.getInt(1));
      }
      assertEquals(1, savedPositions().length);
      assertEquals(15, savedPositions()[0]);
    }
  }

  @Test
  void aRecorderRestartsOverPositionsSavedUnderNamesNoRingCanHave() throws Exception {
    try (TeardownChannel channel = TeardownChannel.create(dir.resolve("channel"), 64)) {
      publishCloses(channel, 0, 10);
      assertEquals(10, record(channel, 10, Recorder.Options.DEFAULT).recorded());
      // What a recorder that read any name under rings/ could have saved: another user's junk.
      try (Connection sql = DriverManager.getConnection("jdbc:sqlite:" + db());
          java.sql.PreparedStatement insert = sql.prepareStatement("INSERT INTO positions VALUES (?, 1, 0)")) {
        for (String junk : List.of("ring-\ufffd\ufffd", "ring-" + "9".repeat(200), "ring-1 2", "x")) {
          insert.setString(1, junk);
          insert.executeUpdate();
        }
      }
      publishCloses(channel, 10, 15);
      assertEquals(15, record(channel, 15, Recorder.Options.DEFAULT).recorded(), "the five new ones, once");
    }
    assertThrows(IllegalArgumentException.class, () -> new RingPosition("ring-\u001b[2J", 1, 0));
    assertTrue(RingPosition.isRingName("ring-S-1-5-21-7-1001-00000000000000ff"));
  }

  @Test
  void aHistoryInAFolderOthersCanWriteMustBeTheCallersAndNoLink() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
        "needs root, to give files to another user");
    Path shared = Files.createDirectory(dir.resolve("shared"));
    Files.setAttribute(shared, "unix:mode", 01777);  // as /tmp is
    Path target = Files.writeString(dir.resolve("precious"), "not to be truncated");
    try (TeardownChannel channel = TeardownChannel.create(dir.resolve("channel"), 64)) {
      // A dangling link where the history would be, and a link where its lock would be.
      Path linked = shared.resolve("linked.db");
      Files.createSymbolicLink(linked, dir.resolve("elsewhere.db"));
      HistoryException link = assertThrows(HistoryException.class, () -> Recorder.open(channel, linked, Recorder.Options.DEFAULT));
      assertTrue(link.getMessage().contains("is a link or not a file"), link.getMessage());
      assertTrue(Files.notExists(dir.resolve("elsewhere.db")), "the link was not followed");
      Path locked = shared.resolve("locked.db");
      Files.createSymbolicLink(shared.resolve("locked.db.lock"), target);
      assertThrows(HistoryException.class, () -> Recorder.open(channel, locked, Recorder.Options.DEFAULT));
      assertEquals("not to be truncated", Files.readString(target));
      // A history another user made in advance, for everyone to read and write.
      Path planted = Files.createFile(shared.resolve("planted.db"));
      Files.setAttribute(planted, "unix:mode", 0666);
      Files.setAttribute(planted, "unix:uid", 65534);
      HistoryException theirs = assertThrows(HistoryException.class, () -> Recorder.open(channel, planted, Recorder.Options.DEFAULT));
      assertTrue(theirs.getMessage().contains("belongs to another user"), theirs.getMessage());
      assertThrows(HistoryException.class, () -> TeardownHistory.open(planted), "not read either");
      assertEquals(0, Files.size(planted));
      // The caller's own history in the same folder is used.
      Path mine = shared.resolve("mine.db");
      publishCloses(channel, 0, 3);
      assertEquals(3, record(channel, mine, 3).recorded());
      // A folder anyone may write and rename in (not sticky) is nobody's to keep a history in.
      Files.setAttribute(shared, "unix:mode", 0777);
      HistoryException open = assertThrows(HistoryException.class, () -> TeardownHistory.open(mine));
      assertTrue(open.getMessage().contains("can be written by other users and is not sticky"), open.getMessage());
    }
  }

  private static TeardownEvent datedEvent(long timeNanos, long socket, EventKind kind) {
    return new TeardownEvent(0, timeNanos, 5, "x", socket, 6, 1, kind, 0, null,
        kind == EventKind.CLOSE ? CloseMode.GRACEFUL : null, Duration.ZERO, java.util.Set.of(), 0, null,
        new java.net.InetSocketAddress("127.0.0.1", 5000 + (int) socket), new java.net.InetSocketAddress("127.0.0.1", 80),
        kind == EventKind.CLOSE ? new dev.teardown.api.ConnectionSummary(Duration.ofMillis(1), 1, 1, Initiator.LOCAL, Ending.GRACEFUL)
            : null, null, "u");
  }

  @Test
  void eventsDatedOutsideTheRecordersClockAreDatedWhenItReadThem() throws Exception {
    long y2100 = TeardownEvent.epochNanos(Instant.parse("2100-01-01T00:00:00Z"));
    long before;
    try (TeardownChannel channel = TeardownChannel.create(dir.resolve("channel"), 64)) {
      // One end dated 0 that closes in 2100, one from 40 days ago (older than the history keeps).
      channel.publish(datedEvent(0, 3, EventKind.EOF));
      channel.publish(datedEvent(y2100, 3, EventKind.CLOSE));
      channel.publish(datedEvent(TeardownEvent.epochNanos(Instant.now().minus(Duration.ofDays(40))), 4, EventKind.CLOSE));
      before = TeardownEvent.epochNanos(Instant.now());
      assertEquals(3, record(channel, 3, Recorder.Options.DEFAULT).recorded());
    }
    long after = TeardownEvent.epochNanos(Instant.now());
    try (TeardownHistory history = TeardownHistory.open(db())) {
      List<RecordedConnection> all = history.connections(HistoryQuery.ALL);
      assertEquals(2, all.size());
      for (RecordedConnection connection : all) {
        for (TeardownEvent event : connection.events()) {
          assertTrue(event.timeNanos() >= before && event.timeNanos() <= after, "dated when read: " + event);
        }
        assertTrue(connection.lifetime().compareTo(Duration.ofSeconds(10)) < 0, connection.lifetime().toString());
      }
    }
  }

  private static TeardownEvent userEvent(String user, long pid, long socket, EventKind kind, long timeNanos) {
    return new TeardownEvent(0, timeNanos, pid, "p", socket, 6, 1, kind, 0, null,
        kind == EventKind.CLOSE ? CloseMode.GRACEFUL : null, Duration.ZERO, java.util.Set.of(), 0, null,
        new java.net.InetSocketAddress("127.0.0.1", 20000 + (int) socket), new java.net.InetSocketAddress("127.0.0.1", 80),
        kind == EventKind.CLOSE ? new dev.teardown.api.ConnectionSummary(Duration.ofMillis(1), 1, 1, Initiator.LOCAL, Ending.GRACEFUL)
            : null, null, user);
  }

  @Test
  void aUserWhoLeavesEndsOpenByTheThousandGivesUpTheirOwnNeverAnothers() throws Exception {
    long now = TeardownEvent.epochNanos(Instant.now());
    try (HistoryWriter writer = new HistoryWriter(db(), 10)) {
      // Root's connection, open first (the least recently seen of all from here on).
      writer.commit(List.of(userEvent("root", 1, 1, EventKind.CONNECTED, now)), 0, List.of(), now);
      List<TeardownEvent> flood = new java.util.ArrayList<>();
      for (int i = 0; i < 1000; i++) {
        flood.add(userEvent("attacker", 2, 100 + i, EventKind.CONNECTED, now + 1 + i));
      }
      writer.commit(flood, 0, List.of(), now);
      assertEquals(1 + 10, writer.openEnds(), "root's one, and the attacker's ten newest");
      writer.commit(List.of(userEvent("root", 1, 1, EventKind.CLOSE, now + 5000)), 0, List.of(), now);
    }
    try (TeardownHistory history = TeardownHistory.open(db())) {
      RecordedConnection root = history.connections(HistoryQuery.ALL.withPid(1L)).get(0);
      assertEquals(1, root.ends().size());
      assertEquals(RecordedEnd.State.CLOSED, root.ends().get(0).state(), "root's end was never given up: " + root);
      assertEquals(2, root.events().size());
      long abandoned = history.connections(HistoryQuery.ALL.withPid(2L)).stream()
          .filter(c -> c.ends().get(0).state() == RecordedEnd.State.ABANDONED).count();
      assertEquals(990, abandoned);
    }
    // A recorder started again keeps the bound over what it finds open.
    try (HistoryWriter writer = new HistoryWriter(db(), 5)) {
      assertEquals(5, writer.openEnds());
    }
  }

  @Test
  void capturesOnOneUsersOpenEndsAreBoundedInMemory() throws Exception {
    long now = TeardownEvent.epochNanos(Instant.now());
    byte[] data = new byte[256];
    try (HistoryWriter writer = new HistoryWriter(db())) {
      // 40,000 open ends, each with a receive of 256 captured bytes: 10 MiB of captures, three
      // times, past the user's 16 MiB and half as much again.
      for (int round = 0; round < 3; round++) {
        List<TeardownEvent> events = new java.util.ArrayList<>();
        for (int i = 0; i < 40_000; i++) {
          events.add(new TeardownEvent(0, now + i, 2, "p", 1000 + i, 6, 1, EventKind.RECV_DISCONNECT, 0, null, null,
              Duration.ZERO, java.util.Set.of(), data.length, data, new java.net.InetSocketAddress("127.0.0.1", 1000),
              new java.net.InetSocketAddress("127.0.0.1", 80), null, null, "attacker"));
        }
        writer.commit(events, 0, List.of(), now);
      }
      assertTrue(writer.openBytes("attacker") <= HistoryWriter.MAX_OPEN_BYTES_PER_USER * 3 / 2 + 1024,
          "held: " + writer.openBytes("attacker"));
      assertEquals(0, writer.openBytes("root"));
    }
  }

  @Test
  void aLossInOneUsersRingsIsNeverAnotherUsersGap() throws Exception {
    long now = TeardownEvent.epochNanos(Instant.now());
    try (HistoryWriter writer = new HistoryWriter(db())) {
      writer.commit(List.of(userEvent("root", 1, 1, EventKind.CONNECTED, now), userEvent("attacker", 2, 2, EventKind.CONNECTED, now)),
          0, List.of(), now);
      // The attacker jumped their own ring's head: a loss of billions, theirs alone.
      writer.commit(List.of(userEvent("root", 1, 1, EventKind.CLOSE, now + 10), userEvent("attacker", 2, 2, EventKind.CLOSE, now + 10)),
          4_600_000_000_000_000_000L, Map.of("attacker", 4_600_000_000_000_000_000L), List.of(), now + 10);
    }
    try (TeardownHistory history = TeardownHistory.open(db())) {
      assertEquals(List.of(), history.connections(HistoryQuery.ALL.withPid(1L)).get(0).gaps(), "root's record is whole");
      List<Gap> theirs = history.connections(HistoryQuery.ALL.withPid(2L)).get(0).gaps();
      assertEquals(1, theirs.size());
      assertEquals("attacker", theirs.get(0).user());
    }
  }

  private static TeardownEvent closeOf(String user, long pid, int local, int remote, long timeNanos, CloseMode mode,
      Initiator first, Ending ending, long sent, long received) {
    return new TeardownEvent(0, timeNanos, pid, "p", 3, 6, 1, EventKind.CLOSE, 0, null, mode, Duration.ZERO,
        java.util.Set.of(), 0, null, new java.net.InetSocketAddress("127.0.0.1", local),
        new java.net.InetSocketAddress("127.0.0.1", remote),
        new dev.teardown.api.ConnectionSummary(Duration.ofMillis(500), sent, received, first, ending), null, user);
  }

  @Test
  void anotherUsersForgedOtherEndNeverOverturnsAnEndsOwnRecord() throws Exception {
    long now = TeardownEvent.epochNanos(Instant.now());
    try (HistoryWriter writer = new HistoryWriter(db())) {
      writer.commit(List.of(
          // Root closed first, gracefully, having sent 5 bytes and received none.
          closeOf("root", 1, 43710, 9999, now, CloseMode.GRACEFUL, Initiator.LOCAL, Ending.GRACEFUL, 5, 0),
          // The attacker claims to be the other end, to have reset it first, 300 ms before.
          closeOf("attacker", 2, 9999, 43710, now - 300_000_000L, CloseMode.ABORTIVE, Initiator.LOCAL, Ending.ABORTIVE, 0, 0),
          // A connection of root's server and another user's client: joined as ever.
          closeOf("alice", 3, 50000, 8080, now, CloseMode.GRACEFUL, Initiator.LOCAL, Ending.GRACEFUL, 10, 20),
          closeOf("root", 4, 8080, 50000, now + 50_000_000L, CloseMode.GRACEFUL, Initiator.REMOTE, Ending.GRACEFUL, 20, 10)),
          0, List.of(), now);
    }
    try (TeardownHistory history = TeardownHistory.open(db())) {
      RecordedConnection roots = history.connections(HistoryQuery.ALL.withPid(1L)).get(0);
      assertEquals(1, roots.ends().size(), "the forged end is not joined: " + roots);
      assertEquals(new InetSocketAddress("127.0.0.1", 43710), roots.initiator());
      assertEquals(Mechanism.FIN, roots.mechanism());
      RecordedConnection served = history.connections(HistoryQuery.ALL.withPid(4L)).get(0);
      assertEquals(2, served.ends().size(), "consistent ends of two users: one connection");
      assertEquals(new InetSocketAddress("127.0.0.1", 50000), served.initiator());
    }
  }

  @Test
  void sizeRetentionTakesFromTheUserWithTheMostRowsAndNoFutureRowStays() throws Exception {
    long now = TeardownEvent.epochNanos(Instant.now());
    long y2100 = TeardownEvent.epochNanos(Instant.parse("2100-01-01T00:00:00Z"));
    try (HistoryWriter writer = new HistoryWriter(db())) {
      List<TeardownEvent> events = new java.util.ArrayList<>();
      for (int i = 0; i < 100; i++) {  // root's, an hour old
        events.add(closeOf("root", 1, 20000 + i, 80, now - 3_600_000_000_000L + i, CloseMode.GRACEFUL,
            Initiator.LOCAL, Ending.GRACEFUL, 1, 1));
      }
      for (int i = 0; i < 3000; i++) {  // a flood of another user's, new
        events.add(closeOf("attacker", 2, 30000 + i, 81, now + i, CloseMode.GRACEFUL, Initiator.LOCAL, Ending.GRACEFUL, 1, 1));
      }
      // One from a recorder that took a producer's clock as it was: dated 2100.
      events.add(closeOf("attacker", 2, 1, 82, y2100, CloseMode.GRACEFUL, Initiator.LOCAL, Ending.GRACEFUL, 1, 1));
      writer.commit(events, 0, List.of(), now);
      long before = writer.usedBytes();
      writer.enforceRetention(Duration.ofDays(30).toNanos(), before / 3, now);
      assertTrue(writer.usedBytes() <= before / 3, "under the limit");
    }
    try (TeardownHistory history = TeardownHistory.open(db())) {
      assertEquals(100, history.connections(HistoryQuery.ALL.withPid(1L)).size(), "root's rows all kept");
      List<RecordedConnection> theirs = history.connections(HistoryQuery.ALL.withPid(2L));
      assertTrue(theirs.size() < 3000, "the flood's own rows went: " + theirs.size());
      assertTrue(theirs.stream().noneMatch(c -> c.ends().get(0).last().isAfter(Instant.now().plusSeconds(3600))), "no row from the future");
    }
  }

  @Test
  void anEndDatedZeroThatClosesIn2100IsStillReadAndJudged() throws Exception {
    // As a recorder that took producers' clocks as they were wrote it.
    long y2100 = TeardownEvent.epochNanos(Instant.parse("2100-01-01T00:00:00Z"));
    try (HistoryWriter writer = new HistoryWriter(db())) {
      writer.commit(List.of(datedEvent(0, 3, EventKind.EOF), datedEvent(y2100, 3, EventKind.CLOSE)), 0, List.of(),
          TeardownEvent.epochNanos(Instant.now()));
    }
    try (TeardownHistory history = TeardownHistory.open(db())) {
      RecordedConnection connection = history.connections(HistoryQuery.ALL).get(0);
      assertEquals(Instant.EPOCH, connection.ends().get(0).first());
      assertEquals(Cause.PEER_CLOSED, connection.cause(), "its end of stream came first");
    }
  }

  @Test
  void aRestartedRecorderGoesOnWithoutRepeatingAndRecordsWhatWentByAsAGap() throws Exception {
    try (TeardownChannel channel = TeardownChannel.create(dir.resolve("channel"), 64)) {
      publishCloses(channel, 0, 10);
      assertEquals(10, record(channel, 10, Recorder.Options.DEFAULT).recorded());
      publishCloses(channel, 10, 20);
      assertEquals(20, record(channel, 20, Recorder.Options.DEFAULT).recorded(), "the ten new ones, once");
      for (int i = 20; i < 220; i++) {
        publish(channel, new EndScript(100, "client", i, 40000 + i, 8080).close(i, CloseMode.GRACEFUL, Initiator.LOCAL, Ending.GRACEFUL));
      }
      Recorder.Progress progress = record(channel, 84, Recorder.Options.DEFAULT);
      assertEquals(84, progress.recorded(), "the 64 the ring still held");
      assertEquals(136, progress.lost(), "200 published while stopped, 64 kept");
    }
    try (TeardownHistory history = TeardownHistory.open(db())) {
      assertEquals(84, history.connections(HistoryQuery.ALL).size());
      List<Gap> gaps = history.gaps(null, null);
      assertEquals(1, gaps.size());
      assertEquals(136, gaps.get(0).lost());
      assertTrue(gaps.get(0).after().isBefore(gaps.get(0).before()));
      // A connection that lived while events went unrecorded shows the gap; one before it does not.
      RecordedConnection spanning = history.connections(HistoryQuery.ALL.withPort(40000 + 156)).get(0);
      assertEquals(gaps, spanning.gaps());
      RecordedConnection before = history.connections(HistoryQuery.ALL.withPort(50005)).get(0);
      assertEquals(List.of(), before.gaps());
    }
  }

  @Test
  void retentionDropsWhatIsOlderThanTheAgeAndKeepsTheSizeUnderTheLimit() throws Exception {
    // 20,000 events of one thread: within one lane of this ring (a quarter, with four lanes).
    try (TeardownChannel channel = TeardownChannel.create(dir.resolve("channel"), 1 << 17)) {
      // Connections recorded 3 s ago (the recorder re-dates what its clock says is older than the
      // history keeps: rows age in the history), and of now.
      Recorder.Options options = Recorder.Options.DEFAULT.withMaxAge(Duration.ofSeconds(3)).withMaxBytes(1L << 20)
          .withRetentionEvery(Duration.ofMillis(20));
      long old = TeardownEvent.epochNanos(Instant.now());
      for (int i = 0; i < 10_000; i++) {
        channel.publish(new TeardownEvent(0, old + i, 1, "p", i, 6, 1, EventKind.CLOSE, 0, null, CloseMode.GRACEFUL,
            Duration.ZERO, java.util.Set.of(), 0, new byte[0], new java.net.InetSocketAddress("127.0.0.1", 1000 + i % 50000),
            new java.net.InetSocketAddress("10.0.0.1", 443),
            new dev.teardown.api.ConnectionSummary(Duration.ofMillis(1), 1, 1, Initiator.LOCAL, Ending.GRACEFUL), null, "u"));
      }
      assertEquals(10_000, record(channel, 10_000, Recorder.Options.DEFAULT.withMaxBytes(1L << 30)).recorded());
      Thread.sleep(3100);
      long now = TeardownEvent.epochNanos(Instant.now());
      for (int i = 10_000; i < 20_000; i++) {
        channel.publish(new TeardownEvent(0, now + i, 1, "p", i, 6, 1, EventKind.CLOSE, 0, null, CloseMode.GRACEFUL,
            Duration.ZERO, java.util.Set.of(), 0, new byte[0], new java.net.InetSocketAddress("127.0.0.1", 1000 + i % 50000),
            new java.net.InetSocketAddress("10.0.0.1", 443),
            new dev.teardown.api.ConnectionSummary(Duration.ofMillis(1), 1, 1, Initiator.LOCAL, Ending.GRACEFUL), null, "u"));
      }
      // Retention every 20 ms, as the recorder runs.
      try (Recorder recorder = Recorder.open(channel, db(), options)) {
        Thread thread = new Thread(recorder::run);
        thread.start();
        long ends = Long.MAX_VALUE;
        for (int i = 0; i < 1000 && ends >= 10_000; i++) {
          Thread.sleep(10);
          if (recorder.progress().recorded() == 20_000) {
            try (TeardownHistory history = TeardownHistory.open(db())) {
              ends = history.summary().ends();
            }
          }
        }
        assertTrue(recorder.stopAndWait(Duration.ofSeconds(10)));
        thread.join();
        assertTrue(ends < 10_000, "the 40-day-old ones are gone, and more for the size: " + ends);
      }
      try (Connection sql = DriverManager.getConnection("jdbc:sqlite:" + db());
          Statement statement = sql.createStatement()) {
        var used = statement.executeQuery(
            "SELECT (SELECT page_count FROM pragma_page_count) - (SELECT freelist_count FROM pragma_freelist_count),"
                + " (SELECT page_size FROM pragma_page_size), (SELECT min(last_ns) FROM ends)");
        used.next();
        assertTrue(used.getLong(1) * used.getLong(2) <= 1L << 20, "pages in use within 1 MiB");
        assertTrue(used.getLong(3) >= now, "only the recent ones remain");
      }
      // Five times as much again, recorded with the same limit: the pages retention frees are
      // reused, and the file stays near the size it had.
      long sizeBefore = Files.size(db());
      for (int round = 0; round < 5; round++) {
        long recent = TeardownEvent.epochNanos(Instant.now());
        for (int i = 0; i < 10_000; i++) {
          channel.publish(new TeardownEvent(0, recent + i, 1, "p", 100_000 + round * 10_000 + i, 6, 1, EventKind.CLOSE,
              0, null, CloseMode.GRACEFUL, Duration.ZERO, java.util.Set.of(), 0, new byte[0],
              new java.net.InetSocketAddress("127.0.0.1", 1000 + i % 50000), new java.net.InetSocketAddress("10.0.0.1", 443),
              new dev.teardown.api.ConnectionSummary(Duration.ofMillis(1), 1, 1, Initiator.LOCAL, Ending.GRACEFUL), null, "u"));
        }
        try (Recorder recorder = Recorder.open(channel, db(), options)) {
          recorder.stop();
          long target = 20_000 + (round + 1) * 10_000L;
          for (int pass = 0; pass < 100 && recorder.progress().recorded() < target; pass++) {
            recorder.run();  // once stopped, each run is one read and one commit
          }
          recorder.enforceRetention();
        }
      }
      assertTrue(Files.size(db()) <= Math.max(sizeBefore * 3 / 2, 2L << 20),
          "the file does not grow with what is recorded: " + sizeBefore + " -> " + Files.size(db()));
      try (TeardownHistory history = TeardownHistory.open(db())) {
        assertEquals(70_000, history.summary().events());
        assertTrue(history.summary().ends() < 20_000, "thinned to the limit: " + history.summary());
      }
    }
  }

  @Test
  void aNewHistoryIsReadableByItsOwnerOnlyForItHoldsEveryUsersConnections() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        dir.getFileSystem().supportedFileAttributeViews().contains("posix"), "POSIX permissions");
    Path db = dir.resolve("var/lib/teardown/history.db");
    try (TeardownChannel channel = TeardownChannel.create(dir.resolve("channel"), 64)) {
      publish(channel, new EndScript(1, "p", 3, 1000, 2000).close(1, CloseMode.GRACEFUL, Initiator.LOCAL, Ending.GRACEFUL));
      try (Recorder recorder = Recorder.open(channel, db, Recorder.Options.DEFAULT)) {
        recorder.stop();
        recorder.run();
        for (String name : List.of("history.db", "history.db-wal", "history.db-shm", "history.db.lock")) {
          Path file = db.resolveSibling(name);
          assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
              Files.getPosixFilePermissions(file)), name);
        }
      }
      for (Path made = db.getParent(); !made.equals(dir); made = made.getParent()) {
        assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(
            Files.getPosixFilePermissions(made)), made.toString());
      }
    }
  }

  @Test
  void aSecondRecorderOnTheSameDatabaseSaysWhoHasIt() throws Exception {
    try (TeardownChannel channel = TeardownChannel.create(dir.resolve("channel"), 64);
        Recorder first = Recorder.open(channel, db(), Recorder.Options.DEFAULT)) {
      HistoryException e = assertThrows(HistoryException.class, () -> Recorder.open(channel, db(), Recorder.Options.DEFAULT));
      assertTrue(e.getMessage().startsWith(first.database().toString()), e.getMessage());
      assertTrue(e.getMessage().contains("already being recorded by process " + ProcessHandle.current().pid()
          + " (it holds history.db.lock)"), e.getMessage());
    }
  }

  @Test
  void filesThatAreNotAHistoryOfThisSchemaAreRefusedByName() throws Exception {
    try (TeardownChannel channel = TeardownChannel.create(dir.resolve("channel"), 64)) {
      Path garbage = dir.resolve("garbage.db");
      Files.write(garbage, "this is not a database at all, but it is long enough".getBytes());
      HistoryException e = assertThrows(HistoryException.class, () -> TeardownHistory.open(garbage));
      assertEquals(garbage + ": not a Teardown history: the file is not an SQLite database", e.getMessage());
      assertThrows(HistoryException.class, () -> Recorder.open(channel, garbage, Recorder.Options.DEFAULT));
      assertEquals("this is not a database at all, but it is long enough", Files.readString(garbage), "left as it was");
      assertTrue(Files.notExists(dir.resolve("garbage.db.lock")), "a refused database leaves no lock behind");

      Path other = dir.resolve("other.db");
      try (Connection sql = DriverManager.getConnection("jdbc:sqlite:" + other);
          Statement statement = sql.createStatement()) {
        statement.execute("CREATE TABLE t(x)");
      }
      e = assertThrows(HistoryException.class, () -> TeardownHistory.open(other));
      assertTrue(e.getMessage().contains("another application"), e.getMessage());

      record(channel, 0, Recorder.Options.DEFAULT);
      try (Connection sql = DriverManager.getConnection("jdbc:sqlite:" + db());
          Statement statement = sql.createStatement()) {
        statement.execute("PRAGMA user_version = " + (HistoryFile.SCHEMA + 1));
      }
      e = assertThrows(HistoryException.class, () -> Recorder.open(channel, db(), Recorder.Options.DEFAULT));
      assertTrue(e.getMessage().startsWith(db() + ": written by a newer Teardown (history schema "
          + (HistoryFile.SCHEMA + 1)), e.getMessage());

      Path damaged = dir.resolve("damaged.db");
      Files.copy(db(), damaged);
      try (Connection sql = DriverManager.getConnection("jdbc:sqlite:" + damaged);
          Statement statement = sql.createStatement()) {
        statement.execute("PRAGMA user_version = 2");
      }
      byte[] bytes = Files.readAllBytes(damaged);
      for (int i = 4096; i < bytes.length; i++) {
        bytes[i] = (byte) 0xA5;  // every page after the first
      }
      Files.write(damaged, bytes);
      e = assertThrows(HistoryException.class, () -> Recorder.open(channel, damaged, Recorder.Options.DEFAULT));
      assertTrue(e.getMessage().startsWith(damaged + ": damaged"), e.getMessage());
      assertThrows(HistoryException.class, () -> TeardownHistory.open(dir.resolve("absent.db")));
    }
  }
}
