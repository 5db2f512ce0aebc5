package dev.teardown.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.teardown.api.CloseMode;
import dev.teardown.api.ConnectionSummary;
import dev.teardown.api.Ending;
import dev.teardown.api.EventFlag;
import dev.teardown.api.EventKind;
import dev.teardown.api.Initiator;
import dev.teardown.api.TeardownChannel;
import dev.teardown.api.TeardownEvent;
import dev.teardown.history.Recorder;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `why`, `report` and `history export` over a history recorded here, and their refusals. */
class HistoryCommandsTest {
  @TempDir Path dir;
  private Path db;

  private static TeardownEvent event(long atMs, long pid, String process, long socket, int local, int remote,
      EventKind kind, CloseMode mode, Set<EventFlag> flags, Initiator first, Ending ending) {
    long now = TeardownEvent.epochNanos(Instant.now().minusSeconds(60));
    return new TeardownEvent(0, now + atMs * 1_000_000, pid, process, socket, 6, 1, kind,
        kind == EventKind.RESET ? 10054 : 0, null, mode, Duration.ZERO, flags, 0, null,
        new InetSocketAddress("127.0.0.1", local), new InetSocketAddress("127.0.0.1", remote),
        kind == EventKind.CLOSE ? new ConnectionSummary(Duration.ofMillis(atMs), 10, 20, first, ending) : null, null);
  }

  @BeforeEach
  void record() throws Exception {
    db = dir.resolve("history.db");
    try (TeardownChannel channel = TeardownChannel.create(dir.resolve("channel"), 256)) {
      // A linger-zero client and the server that saw its reset, on port 8080.
      channel.publish(event(10, 100, "client", 3, 50000, 8080, EventKind.CLOSE, CloseMode.ABORTIVE, Set.of(), Initiator.LOCAL, Ending.ABORTIVE));
      channel.publish(event(11, 200, "server", 7, 8080, 50000, EventKind.RESET, null, Set.of(), null, null));
      channel.publish(event(12, 200, "server", 7, 8080, 50000, EventKind.CLOSE, CloseMode.GRACEFUL, Set.of(), Initiator.REMOTE, Ending.ABORTIVE));
      // A graceful close by a "curl,1" (a name that needs quoting in CSV) to port 443.
      channel.publish(event(20, 300, "curl,1", 4, 40000, 443, EventKind.CLOSE, CloseMode.GRACEFUL, Set.of(), Initiator.LOCAL, Ending.GRACEFUL));
      // A connect to port 9, where nothing listens, as a Linux program saw it.
      long now = TeardownEvent.epochNanos(Instant.now().minusSeconds(60));
      channel.publish(new TeardownEvent(0, now + 30_000_000, 400, "probe", 5, 6, 1, EventKind.CONNECT_FAILED, 10061,
          null, null, Duration.ZERO, Set.of(), 0, null, null, new InetSocketAddress("127.0.0.1", 9),
          new ConnectionSummary(Duration.ofNanos(85_000), 0, 0, Initiator.NONE, Ending.NONE), null, "", 111, null));
      try (Recorder recorder = Recorder.open(channel, db, Recorder.Options.DEFAULT)) {
        recorder.stop();
        recorder.run();
      }
    }
  }

  @Test
  void whyShowsTheVerdictAndBothEndsTimeline() {
    CommandLineRun run = CommandLineRun.of("why", "--db", db.toString(), "--port", "8080");
    assertEquals(0, run.exit(), run.err());
    assertTrue(run.out().startsWith(
        "127.0.0.1:50000 <-> 127.0.0.1:8080  linger-zero-close, RST, started by 127.0.0.1:50000 (client[100], "
            + System.getProperty("user.name") + ")\n"),
        run.out());
    assertTrue(run.out().contains("both ends recorded"), run.out());
    assertTrue(run.out().contains("client[100] 127.0.0.1:50000"), run.out());
    assertTrue(run.out().contains("RESET WSAECONNRESET"), run.out());
    assertTrue(run.out().contains("  client[100], " + System.getProperty("user.name") + " 127.0.0.1:50000: sent 10, received 20\n"),
        run.out());
    assertEquals(3 + 2 + 4, run.out().lines().count(),
        "verdict, description, lifetime, each end's bytes, header, three events: " + run.out());

    CommandLineRun json = CommandLineRun.of("why", "--db", db.toString(), "--json", "--oldest-first");
    List<String> lines = json.out().lines().toList();
    assertEquals(3, lines.size(), json.out());
    assertTrue(lines.get(0).startsWith("{\"ends\":[{\"id\":1,"), lines.get(0));
    for (String key : List.of("\"initiator\":\"127.0.0.1:50000\"", "\"mechanism\":\"RST\"", "\"cause\":\"linger-zero-close\"",
        "\"lifetimeNanos\":", "\"bytesSent\":10", "\"bytesReceived\":20", "\"events\":[{", "\"gaps\":[]")) {
      assertTrue(lines.get(0).contains(key), key + " in " + lines.get(0));
    }
    assertTrue(lines.get(1).contains("\"cause\":\"graceful-close\""), lines.get(1));

    CommandLineRun byProcess = CommandLineRun.of("why", "--db", db.toString(), "--process", "SERVER", "--json");
    assertEquals(1, byProcess.out().lines().count(), byProcess.out());
    CommandLineRun byPrefix = CommandLineRun.of("why", "--db", db.toString(), "--process", "cur", "--json");
    assertEquals(1, byPrefix.out().lines().count(), "curl,1 starts so: " + byPrefix.out());
    CommandLineRun wildcard = CommandLineRun.of("why", "--db", db.toString(), "--process", "c_rl", "--json");
    assertEquals(0, wildcard.out().lines().count(), "_ is itself, not any character: " + wildcard.out());
    CommandLineRun unknown = CommandLineRun.of("why", "--db", db.toString(), "--process", "python3");
    assertEquals(0, unknown.exit());
    assertTrue(unknown.err().contains("processes recorded: client, curl,1, probe, server"), unknown.err());
    CommandLineRun none = CommandLineRun.of("why", "--db", db.toString(), "--peer", "10.9.9.9");
    assertEquals(0, none.exit());
    assertEquals("teardown: no recorded connection matches", none.err().strip());
    CommandLineRun recent = CommandLineRun.of("why", "--db", db.toString(), "--since", "1s");
    assertTrue(recent.out().isEmpty(), "all of it is a minute old: " + recent.out());
  }

  /**
   * A copy of a history on a read-only disk: as root, a tmpfs mounted read-only (skipped where this
   * machine may not mount); as anyone else, a folder and file without write permission.
   */
  @Test
  void whyReportAndExportReadAHistoryOnAReadOnlyDisk() throws Exception {
    Path place = dir.resolve("read-only");
    java.nio.file.Files.createDirectory(place);
    boolean root = "root".equals(System.getProperty("user.name"));
    boolean mounted = false;
    try {
      if (root) {
        mounted = quietly("mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "teardown-test", place.toString());
        org.junit.jupiter.api.Assumptions.assumeTrue(mounted, "root here may not mount a tmpfs to make read-only");
      }
      Path copy = place.resolve("history.db");
      java.nio.file.Files.copy(db, copy);
      if (root) {
        org.junit.jupiter.api.Assumptions.assumeTrue(quietly("mount", "-o", "remount,ro", place.toString()),
            "root here may not remount read-only");
      } else {
        java.nio.file.Files.setPosixFilePermissions(copy, java.nio.file.attribute.PosixFilePermissions.fromString("r--------"));
        java.nio.file.Files.setPosixFilePermissions(place, java.nio.file.attribute.PosixFilePermissions.fromString("r-x------"));
      }
      CommandLineRun why = CommandLineRun.of("why", "--db", copy.toString(), "--port", "8080");
      assertEquals(0, why.exit(), why.err());
      assertTrue(why.out().startsWith("127.0.0.1:50000 <-> 127.0.0.1:8080  linger-zero-close, RST"), why.out());
      CommandLineRun report = CommandLineRun.of("report", "--db", copy.toString(), "--json");
      assertEquals(0, report.exit(), report.err());
      assertTrue(report.out().startsWith("{\"connections\":3,"), report.out());
      CommandLineRun export = CommandLineRun.of("history", "export", "--db", copy.toString(), "--format", "csv");
      assertEquals(0, export.exit(), export.err());
      assertEquals(1 + 5, export.out().lines().count(), "a header and each event: " + export.out());
      assertEquals(List.of("history.db"), names(place), "nothing made beside it");
    } finally {
      if (mounted) {
        quietly("umount", place.toString());
      } else {
        java.nio.file.Files.setPosixFilePermissions(place, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
      }
    }
  }

  private static boolean quietly(String... command) throws Exception {
    Process process = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    return process.waitFor() == 0;
  }

  private static List<String> names(Path folder) throws java.io.IOException {
    try (java.util.stream.Stream<Path> listed = java.nio.file.Files.list(folder)) {
      return listed.map(path -> path.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void reportSumsUpByMechanismCauseAndTopResets() {
    CommandLineRun run = CommandLineRun.of("report", "--db", db.toString(), "--json");
    assertEquals(0, run.exit(), run.err());
    assertEquals("{\"connections\":3,\"lost\":0,\"byMechanism\":{\"FIN\":1,\"RST\":2},"
        + "\"byCause\":{\"graceful-close\":1,\"linger-zero-close\":1,\"connect-refused\":1},"
        + "\"topProcesses\":[{\"name\":\"client (" + System.getProperty("user.name") + ")\",\"resets\":1}],\"topPorts\":[{\"name\":\"8080\",\"resets\":1}],"
        + "\"topPeers\":[{\"name\":\"127.0.0.1\",\"resets\":1}],"
        + "\"failedConnects\":[{\"name\":\"refused by 127.0.0.1:9\",\"attempts\":1}]}", run.out().strip());
    CommandLineRun text = CommandLineRun.of("report", "--db", db.toString());
    assertTrue(text.out().contains("  linger-zero-close        1"), text.out());
    assertTrue(text.out().contains("connects that made no connection\n  refused by 127.0.0.1:9   1\n"), text.out());
  }

  @Test
  void whyShowsTheNewestFirstAndPagesBackWithBefore() {
    CommandLineRun newest = CommandLineRun.of("why", "--db", db.toString(), "--json", "--limit", "2");
    assertEquals(0, newest.exit(), newest.err());
    List<String> lines = newest.out().lines().toList();
    assertEquals(2, lines.size(), newest.out());
    assertTrue(lines.get(0).contains("\"cause\":\"connect-refused\""), "the newest first: " + lines.get(0));
    assertTrue(lines.get(1).contains("\"cause\":\"graceful-close\""), lines.get(1));
    String hint = newest.err().strip();
    assertTrue(hint.startsWith("teardown: showing the newest 2 of 3 matching connections; older ones: --before "), hint);
    CommandLineRun narrowed = CommandLineRun.of("why", "--db", db.toString(), "--port", "8080", "--limit", "1");
    assertTrue(narrowed.err().startsWith("teardown: showing the newest 1 of 1 matching connections;"),
        "both ends of the 8080 connection are one: " + narrowed.err());
    String before = hint.substring(hint.lastIndexOf(' ') + 1);
    CommandLineRun older = CommandLineRun.of("why", "--db", db.toString(), "--json", "--before", before);
    List<String> page = older.out().lines().toList();
    assertEquals(1, page.size(), "the one older than the page shown: " + older.out());
    assertTrue(page.get(0).contains("\"cause\":\"linger-zero-close\""), page.get(0));
    CommandLineRun bad = CommandLineRun.of("why", "--db", db.toString(), "--before", "yesterday");
    assertEquals(2, bad.exit());
    assertTrue(bad.err().contains("--before: 'yesterday' is neither an instant"), bad.err());
  }

  @Test
  void reportRanksTheListenersPortNotTheClients() throws Exception {
    Path other = dir.resolve("ports.db");
    try (TeardownChannel channel = TeardownChannel.create(dir.resolve("ports"), 256)) {
      // A service on a high port (50500), its client's ephemeral port lower (40100): the server
      // accepted, and resets.
      channel.publish(event(10, 700, "server", 3, 50500, 40100, EventKind.CLOSE, CloseMode.ABORTIVE,
          Set.of(EventFlag.ACCEPTED), Initiator.LOCAL, Ending.ABORTIVE));
      channel.publish(event(11, 800, "client", 4, 40100, 50500, EventKind.RESET, null, Set.of(), null, null));
      channel.publish(event(12, 800, "client", 4, 40100, 50500, EventKind.CLOSE, CloseMode.GRACEFUL, Set.of(),
          Initiator.REMOTE, Ending.ABORTIVE));
      try (Recorder recorder = Recorder.open(channel, other, Recorder.Options.DEFAULT)) {
        recorder.stop();
        recorder.run();
      }
    }
    CommandLineRun run = CommandLineRun.of("report", "--db", other.toString(), "--json");
    assertEquals(0, run.exit(), run.err());
    assertTrue(run.out().contains("\"topPorts\":[{\"name\":\"50500\",\"resets\":1}]"), run.out());
  }

  @Test
  void whyNamesARefusedConnectAndTheErrorAsTheProgramSawIt() {
    CommandLineRun run = CommandLineRun.of("why", "--db", db.toString(), "--port", "9");
    assertEquals(0, run.exit(), run.err());
    assertTrue(run.out().startsWith("? <-> 127.0.0.1:9  connect-refused, RST, started by 127.0.0.1:9\n"), run.out());
    assertTrue(run.out().contains("\n  refused by 127.0.0.1:9 (ECONNREFUSED (WSAECONNREFUSED) after 85 µs)\n"), run.out());
    assertTrue(run.out().contains("Zeek conn_state REJ"), run.out());
    assertTrue(run.out().contains("CONNECT_FAILED ECONNREFUSED (WSAECONNREFUSED) to 127.0.0.1:9"), run.out());
    CommandLineRun json = CommandLineRun.of("why", "--db", db.toString(), "--port", "9", "--json");
    assertTrue(json.out().contains("\"errorName\":\"WSAECONNREFUSED\",\"osError\":111,\"osErrorName\":\"ECONNREFUSED\""),
        json.out());
    assertTrue(json.out().contains("\"cause\":\"connect-refused\",\"detail\":\"refused by 127.0.0.1:9"), json.out());
  }

  @Test
  void exportWritesEveryEventWithItsVerdictAsCsvOrEveryConnectionAsJsonl() {
    CommandLineRun csv = CommandLineRun.of("history", "export", "--db", db.toString(), "--format", "csv");
    assertEquals(0, csv.exit(), csv.err());
    List<String> rows = csv.out().lines().toList();
    assertEquals(HistoryCommand.Export.CSV_HEADER, rows.get(0));
    assertEquals(1 + 5, rows.size(), csv.out());
    assertTrue(rows.get(1).startsWith("1,linger-zero-close,RST,127.0.0.1:50000,"), rows.get(1));
    assertTrue(rows.get(4).contains(",\"curl,1\","), "quoted: " + rows.get(4));
    // What why --json says of a connection and its ends is in every row.
    int columns = HistoryCommand.Export.CSV_HEADER.split(",").length;
    for (String row : List.of(rows.get(1), rows.get(5))) {
      assertEquals(columns, row.split(",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", -1).length, row);
    }
    assertTrue(rows.get(1).contains(",linger-zero-close,RST,127.0.0.1:50000,"), rows.get(1));
    assertTrue(rows.get(1).contains(",CLOSED,"), "the end's state: " + rows.get(1));
    assertTrue(rows.get(5).contains(",REJ,"), "Zeek's state: " + rows.get(5));
    assertTrue(rows.get(5).contains(",ECONNREFUSED (WSAECONNREFUSED),ECONNREFUSED,"), "both errors: " + rows.get(5));
    assertTrue(rows.get(5).contains(",refused by 127.0.0.1:9 (ECONNREFUSED"), "the detail: " + rows.get(5));
    CommandLineRun jsonl = CommandLineRun.of("history", "export", "--db", db.toString());
    assertEquals(3, jsonl.out().lines().count(), jsonl.out());
  }

  @Test
  void namesAreShownAsTextAndNeverForgeALineOrHideAColumn() throws Exception {
    Path other = dir.resolve("named.db");
    String evil = "\u001b[2J\u001b[31mevil\r\nforged line\u202e\u0085";
    String longName = "p".repeat(62);
    try (TeardownChannel channel = TeardownChannel.create(dir.resolve("named"), 256)) {
      channel.publish(event(10, 500, evil, 3, 50001, 7070, EventKind.CLOSE, CloseMode.ABORTIVE, Set.of(), Initiator.LOCAL, Ending.ABORTIVE));
      channel.publish(event(12, 600, longName, 4, 7070, 50001, EventKind.CLOSE, CloseMode.GRACEFUL, Set.of(), Initiator.REMOTE, Ending.ABORTIVE));
      try (Recorder recorder = Recorder.open(channel, other, Recorder.Options.DEFAULT)) {
        recorder.stop();
        recorder.run();
      }
    }
    String user = System.getProperty("user.name");
    for (List<String> command : List.of(List.of("why"), List.of("report"))) {
      List<String> arguments = new java.util.ArrayList<>(command);
      arguments.addAll(List.of("--db", other.toString()));
      CommandLineRun run = CommandLineRun.of(arguments.toArray(String[]::new));
      assertEquals(0, run.exit(), run.err());
      for (char c : new char[] {'\u001b', '\r', '\u202e', '\u0085'}) {
        assertTrue(run.out().indexOf(c) < 0, command + " printed U+" + Integer.toHexString(c) + " raw: " + run.out());
      }
      assertTrue(run.out().lines().noneMatch(line -> line.startsWith("forged line")), run.out());
      assertTrue(run.out().contains("\\x1b[2J\\x1b[31mevil\\x0d"), run.out());
    }
    // `watch`'s table: the same, each column its width.
    String row = EventFormat.row(event(10, 500, evil, 3, 50001, 7070, EventKind.CLOSE, CloseMode.ABORTIVE, Set.of(),
        Initiator.LOCAL, Ending.ABORTIVE));
    assertTrue(row.chars().noneMatch(c -> c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x202e), row);
    assertEquals(EventFormat.row(event(10, 500, "x", 3, 50001, 7070, EventKind.CLOSE, CloseMode.ABORTIVE, Set.of(),
        Initiator.LOCAL, Ending.ABORTIVE)).indexOf("127.0.0.1:50001"), row.indexOf("127.0.0.1:50001"), row);
    CommandLineRun why = CommandLineRun.of("why", "--db", other.toString());
    // The long name is cut, its pid and its user kept.
    String cut = "p".repeat(ConnectionFormat.PROCESS - "[600]".length() - 1) + Shown.CUT + "[600]";
    assertTrue(why.out().contains("  " + cut + ", " + user + " 127.0.0.1:7070: "), why.out());
    CommandLineRun report = CommandLineRun.of("report", "--db", other.toString(), "--json");
    assertTrue(report.out().contains("\"topProcesses\":[{\"name\":\"\\u001b[2J\\u001b[31mevil\\r\\nforged line\\u202e\\u0085 ("
        + user + ")\",\"resets\":1}"), "JSON keeps the name, escaped, and whose it is: " + report.out());
    // CSV: RFC 4180, records ending in CRLF, text only in its cells.
    CommandLineRun csv = CommandLineRun.of("history", "export", "--db", other.toString(), "--format", "csv");
    assertEquals(0, csv.exit(), csv.err());
    String[] records = csv.out().split("\r\n", -1);
    assertEquals(1 + 2 + 1, records.length, "header, two events, nothing after the last CRLF: " + csv.out());
    assertEquals("", records[3]);
    assertTrue(records[1].contains(",500,\\x1b[2J\\x1b[31mevil\\x0d\\x0aforged line\\u202e\\x85,3,"), records[1]);
  }

  @Test
  void badInputIsNamed() {
    CommandLineRun peer = CommandLineRun.of("why", "--db", db.toString(), "--peer", "example.com");
    assertEquals(2, peer.exit());
    assertTrue(peer.err().contains("not an IP address: example.com (names are not looked up)"), peer.err());
    Path missing = dir.resolve("missing.db");
    CommandLineRun absent = CommandLineRun.of("report", "--db", missing.toString());
    assertEquals(1, absent.exit());
    assertEquals("teardown: " + missing + ": no history here (start one with `teardown record`)", absent.err().strip());
    CommandLineRun size = CommandLineRun.of("record", "--db", db.toString(), "--max-size", "lots");
    assertEquals(2, size.exit());
    assertTrue(size.err().contains("'lots' is not a size"), size.err());
    CommandLineRun format = CommandLineRun.of("history", "export", "--db", db.toString(), "--format", "xml");
    assertEquals(2, format.exit());
  }

  @Test
  void numbersAndDurationsOutOfRangeAreRefusedByName() {
    for (List<String> command : List.of(
        List.of("why", "--since", "99999999999d"),
        List.of("report", "--since", "99999999999d"),
        List.of("history", "export", "--since", "P999999999999D"),
        List.of("record", "--max-age", "36501d"))) {
      List<String> arguments = new java.util.ArrayList<>(command);
      arguments.addAll(List.of("--db", db.toString()));
      CommandLineRun run = CommandLineRun.of(arguments.toArray(String[]::new));
      assertEquals(2, run.exit(), command + ": " + run.err());
      assertTrue(run.err().contains("at most 36500d") || run.err().contains("is not a duration"), command + ": " + run.err());
      assertTrue(run.err().lines().noneMatch(line -> line.contains("Exception")), run.err());
    }
    for (String top : List.of("-1", "0", "1001")) {
      CommandLineRun run = CommandLineRun.of("report", "--db", db.toString(), "--top", top);
      assertEquals(2, run.exit(), top + ": " + run.err());
      assertTrue(run.err().contains("--top must be between 1 and 1000, not " + top), run.err());
    }
    CommandLineRun limit = CommandLineRun.of("why", "--db", db.toString(), "--limit", "-5");
    assertEquals(2, limit.exit(), limit.err());
    assertTrue(limit.err().contains("the limit must be at least 1: -5"), limit.err());
    CommandLineRun count = CommandLineRun.of("watch", "--count", "0");
    assertEquals(2, count.exit(), count.err());
    assertTrue(count.err().contains("--count must be at least 1, not 0"), count.err());
    CommandLineRun longest = CommandLineRun.of("report", "--db", db.toString(), "--since", "36500d");
    assertEquals(0, longest.exit(), "a hundred years back is a question: " + longest.err());
  }

  @Test
  void theSystemdUnitRunsThisRecorder() {
    CommandLineRun unit = CommandLineRun.of("record", "--print-systemd-unit", "--db", "/var/lib/teardown/history.db");
    assertEquals(0, unit.exit(), unit.err());
    assertTrue(unit.out().contains("\nExecStart=" + Path.of(System.getProperty("java.home"), "bin", "java")), unit.out());
    assertTrue(unit.out().contains(" record --db /var/lib/teardown/history.db\n"), unit.out());
    assertTrue(unit.out().contains("\nSuccessExitStatus=143\n"), unit.out());
    assertTrue(unit.out().contains("\nWantedBy=multi-user.target\n"), unit.out());
  }
}
