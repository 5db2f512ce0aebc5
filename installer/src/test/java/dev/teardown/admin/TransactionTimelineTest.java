package dev.teardown.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.teardown.api.CloseMode;
import dev.teardown.api.EventKind;
import dev.teardown.api.ShutdownHow;
import dev.teardown.api.TeardownEvent;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The seed's table as the demo checks it, and the demo itself on real programs. */
class TransactionTimelineTest {
  private static final long CLIENT = 10;
  private static final long SERVER = 20;

  private final List<TeardownEvent> events = new ArrayList<>();

  private void add(long pid, EventKind kind) {
    add(pid, kind, null);
  }

  /** An event carrying {@code total} as 8 bytes of disconnect data (none when null). */
  private void add(long pid, EventKind kind, Long total) {
    long time = events.size() + 1;
    byte[] data = total == null ? null : ByteBuffer.allocate(8).putLong(total).array();
    events.add(new TeardownEvent(
        events.size(), time, pid, pid == CLIENT ? "client" : "server", 3, 6, 1, kind, 0,
        kind == EventKind.SHUTDOWN ? ShutdownHow.SEND : null,
        kind == EventKind.CLOSE ? CloseMode.GRACEFUL : null, Duration.ZERO, Set.of(),
        data == null ? 0 : 8, data, null, null, null, null));
  }

  private void exchange(long clientTotal, long grandTotal) {
    add(CLIENT, EventKind.SEND_DISCONNECT, clientTotal);
    add(SERVER, EventKind.EOF);
    add(SERVER, EventKind.RECV_DISCONNECT, clientTotal);
    add(SERVER, EventKind.SEND_DISCONNECT, grandTotal);
    add(SERVER, EventKind.CLOSE);
    add(CLIENT, EventKind.EOF);
    add(CLIENT, EventKind.RECV_DISCONNECT, grandTotal);
    add(CLIENT, EventKind.CLOSE);
  }

  @Test
  void theTotalsMustTravelAsDisconnectData() {
    exchange(42, 1042);
    TransactionTimeline timeline = new TransactionTimeline(events, CLIENT, SERVER);
    assertEquals(List.of(), timeline.problems());
    assertEquals(List.of(), timeline.totalProblems(42, 1042));
    assertEquals(List.of("step (1) carried 42, not 41", "step (3) carried 42, not 41",
        "step (5) carried 1042, not 1041", "step (7) carried 1042, not 1041"),
        timeline.totalProblems(41, 1041));
  }

  @Test
  void totalsSentInBandAreNamedAsMissing() {
    add(CLIENT, EventKind.SHUTDOWN);
    add(SERVER, EventKind.EOF);
    add(SERVER, EventKind.RECV_DISCONNECT);
    add(SERVER, EventKind.SEND_DISCONNECT);
    add(CLIENT, EventKind.EOF);
    add(CLIENT, EventKind.RECV_DISCONNECT);
    add(CLIENT, EventKind.CLOSE);
    add(SERVER, EventKind.CLOSE);
    TransactionTimeline timeline = new TransactionTimeline(events, CLIENT, SERVER);
    assertEquals(List.of(), timeline.problems(), "a shutdown stands for step (1)");
    assertTrue(timeline.totalProblems(42, 1042).contains("step (1) carried no disconnect data"));
  }

  @Test
  void aShutdownMadeWhileClosingIsNoSecondSendDisconnect() {
    exchange(42, 1042);
    add(CLIENT, EventKind.SHUTDOWN);  // java.net's close shuts the socket down first
    add(SERVER, EventKind.SHUTDOWN);
    TransactionTimeline timeline = new TransactionTimeline(events, CLIENT, SERVER);
    assertEquals(List.of(), timeline.problems());
    assertEquals(1, timeline.eventsOf(TransactionTimeline.Step.S1).size());
  }

  @ParameterizedTest(name = "(5'') after step {0}")
  @ValueSource(ints = {5, 6, 7, 8})
  void theServersCloseMayComeAnywhereAfterItsSendDisconnect(int after) {
    add(CLIENT, EventKind.SEND_DISCONNECT);
    add(SERVER, EventKind.FD_CLOSE);
    add(SERVER, EventKind.RECV_DISCONNECT);
    add(SERVER, EventKind.SEND_DISCONNECT);
    if (after == 5) add(SERVER, EventKind.CLOSE);
    add(CLIENT, EventKind.FD_CLOSE);
    if (after == 6) add(SERVER, EventKind.CLOSE);
    add(CLIENT, EventKind.RECV_DISCONNECT);
    if (after == 7) add(SERVER, EventKind.CLOSE);
    add(CLIENT, EventKind.CLOSE);
    if (after == 8) add(SERVER, EventKind.CLOSE);
    assertEquals(List.of(), new TransactionTimeline(events, CLIENT, SERVER).problems());
  }

  @Test
  void aServerThatClosesBeforeItsSendDisconnectBreaksTheTable() {
    add(CLIENT, EventKind.SEND_DISCONNECT);
    add(SERVER, EventKind.FD_CLOSE);
    add(SERVER, EventKind.RECV_DISCONNECT);
    add(SERVER, EventKind.CLOSE);
    add(SERVER, EventKind.SEND_DISCONNECT);
    add(CLIENT, EventKind.FD_CLOSE);
    add(CLIENT, EventKind.RECV_DISCONNECT);
    add(CLIENT, EventKind.CLOSE);
    assertEquals(List.of("step (5) came after step (5')"), new TransactionTimeline(events, CLIENT, SERVER).problems());
  }

  @Test
  void missingStepsAreNamed() {
    add(CLIENT, EventKind.SEND_DISCONNECT);
    add(CLIENT, EventKind.CLOSE);
    List<String> problems = new TransactionTimeline(events, CLIENT, SERVER).problems();
    assertTrue(problems.contains("step (2) was not observed"), problems.toString());
    assertTrue(problems.contains("step (7) was not observed"), problems.toString());
  }

  @Test
  @EnabledOnOs(value = OS.LINUX, disabledReason = "the Linux layer")
  void theDemoObservesTheEightStepsInAValidOrder(@TempDir Path dir) {
    CommandLineRun run = CommandLineRun.of("demo", "--channel", dir.resolve("channel").toString());
    assertEquals(0, run.exit(), run.out() + run.err());
    assertTrue(run.out().contains("is a valid order of the documentation's table"), run.out());
    assertTrue(run.out().contains("from Microsoft's Connection Shutdown"), run.out());
    assertTrue(run.out().contains("client (7) receives the grand total: 1042"), run.out());
    assertTrue(run.out().contains("the client's total (42) and the grand total (1042) travelled as disconnect data"),
        run.out());
    assertTrue(Files.exists(dir.resolve("channel").resolve("config")), "a given channel is kept");
  }

  @Test
  @EnabledOnOs(value = OS.LINUX, disabledReason = "the Linux layer")
  void theJavaSamplesCarryTheTotalsThroughTheJavaApi(@TempDir Path dir) {
    CommandLineRun run = CommandLineRun.of("demo", "--java", "--transactions", "7", "--previous-total", "100",
        "--channel", dir.resolve("channel").toString());
    assertEquals(0, run.exit(), run.out() + run.err());
    assertTrue(run.out().contains("client (7) receives the grand total: 107"), run.out());
    assertTrue(run.out().contains("the client's total (7) and the grand total (107) travelled as disconnect data"),
        run.out());
  }
}
