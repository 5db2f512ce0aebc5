package dev.teardown.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.teardown.api.Configuration;
import dev.teardown.api.TeardownChannel;
import dev.teardown.history.Cause;
import dev.teardown.history.HistoryQuery;
import dev.teardown.history.Mechanism;
import dev.teardown.history.RecordedConnection;
import dev.teardown.history.Recorder;
import dev.teardown.history.TeardownHistory;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real programs under the Linux layer, recorded by the recorder, judged by the history, and each
 * verdict checked against tshark's view of the same connection: FIN or RST as the wire carried
 * it, and the initiator the end whose FIN or RST went first. Needs tshark (capture on lo: root)
 * and python3; `./teardown test` installs them.
 */
@EnabledOnOs(value = OS.LINUX, disabledReason = "the Linux layer")
class RecordedVerdictsOnTheWireTest {
  private static final long TIMEOUT_SECONDS = 60;

  @TempDir Path dir;

  /** A scenario of history_scenarios.py and the verdict it must get; the client connects to the port. */
  private record Scenario(String mode, Cause cause, Mechanism mechanism, boolean clientStarts, int ends) {}

  private static final List<Scenario> SCENARIOS = List.of(
      new Scenario("graceful", Cause.GRACEFUL_CLOSE, Mechanism.FIN, true, 2),
      new Scenario("halfclose", Cause.SHUTDOWN_THEN_CLOSE, Mechanism.FIN, true, 2),
      new Scenario("lingerzero", Cause.LINGER_ZERO_CLOSE, Mechanism.RST, true, 2),
      new Scenario("unread", Cause.CLOSE_WITH_UNREAD_DATA, Mechanism.RST, false, 2),
      new Scenario("exit", Cause.PROCESS_EXIT, Mechanism.FIN, true, 2),
      new Scenario("peerreset", Cause.PEER_RESET, Mechanism.RST, false, 1),
      // Never read by the program: the kernel's state at its close tells.
      new Scenario("peerclosed-unread", Cause.PEER_CLOSED, Mechanism.FIN, false, 1),
      new Scenario("peerreset-unread", Cause.PEER_RESET, Mechanism.RST, false, 1),
      // Nothing listens: the port answers the SYN with a reset.
      new Scenario("refused", Cause.CONNECT_REFUSED, Mechanism.RST, false, 1),
      // The server closes, the client writes on: the server's kernel resets (FIN, then RST).
      new Scenario("writeafterclose", Cause.DATA_AFTER_CLOSE, Mechanism.RST, false, 2),
      new Scenario("peerclosed-write", Cause.DATA_AFTER_CLOSE, Mechanism.RST, false, 1),
      // A client killed with SIGKILL, its connection open: known from its CONNECTED event.
      new Scenario("killed", Cause.PROCESS_KILLED, Mechanism.FIN, true, 2),
      // The same endings with the peer outside the layer: only the client is recorded.
      new Scenario("graceful-alone", Cause.GRACEFUL_CLOSE, Mechanism.FIN, true, 1),
      new Scenario("halfclose-alone", Cause.SHUTDOWN_THEN_CLOSE, Mechanism.FIN, true, 1),
      new Scenario("lingerzero-alone", Cause.LINGER_ZERO_CLOSE, Mechanism.RST, true, 1),
      new Scenario("unread-alone", Cause.CLOSE_WITH_UNREAD_DATA, Mechanism.RST, true, 1),
      new Scenario("exit-alone", Cause.PROCESS_EXIT, Mechanism.FIN, true, 1),
      new Scenario("killed-alone", Cause.PROCESS_KILLED, Mechanism.NONE, true, 1),
      new Scenario("disconnect", Cause.DISCONNECT_DATA, Mechanism.FIN, true, 2));

  /** One packet of a capture that matters here. */
  private record Packet(int from, int to, boolean fin, boolean reset) {}

  @Test
  void everyVerdictAgreesWithTheWire() throws Exception {
    for (String tool : List.of("tshark", "python3")) {
      assertTrue(WireTools.onPath(tool), tool + " is not installed (./teardown test installs it)");
    }
    Map<Scenario, Integer> ports = new LinkedHashMap<>();
    for (Scenario scenario : SCENARIOS) {
      ports.put(scenario, freePort(ports.values()));
    }
    int disconnectPort = ports.get(SCENARIOS.get(SCENARIOS.size() - 1));
    Path capture = dir.resolve("loopback.pcapng");
    Path db = dir.resolve("history.db");
    try (TeardownChannel channel = TeardownChannel.create(dir.resolve("channel"), 1 << 14)) {
      // Every kind, CONNECTED too: what tells of a connection whose process is killed.
      channel.configure(Configuration.builder().kinds(java.util.EnumSet.allOf(dev.teardown.api.EventKind.class))
          .emulationPorts(List.of(disconnectPort)).captureBytes(64).build());
      Process tshark = WireTools.startCapture(capture);
      try {
        for (Map.Entry<Scenario, Integer> entry : ports.entrySet()) {
          String mode = entry.getKey().mode();
          Thread peer = switch (mode) {
            case "peerreset", "peerreset-unread" -> closingPeer(entry.getValue(), true);
            case "peerclosed-unread", "peerclosed-write" -> closingPeer(entry.getValue(), false);
            case "graceful-alone", "halfclose-alone", "lingerzero-alone", "exit-alone", "killed-alone" ->
                drainingPeer(entry.getValue(), false);
            case "unread-alone" -> drainingPeer(entry.getValue(), true);
            default -> null;
          };
          run(channel.path(), "python3", WireTools.program(dir, "history_scenarios.py"), mode, Integer.toString(entry.getValue()));
          if (peer != null) {
            peer.join(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
          }
        }
        Thread.sleep(500);  // the last packets reach the capture
      } finally {
        WireTools.stopCapture(tshark, TIMEOUT_SECONDS);
      }
      recordEverything(channel, db);
    }
    List<Packet> wire = readCapture(capture);
    try (TeardownHistory history = TeardownHistory.open(db)) {
      for (Map.Entry<Scenario, Integer> entry : ports.entrySet()) {
        Scenario scenario = entry.getKey();
        int port = entry.getValue();
        List<RecordedConnection> found = history.connections(HistoryQuery.ALL.withPort(port));
        assertEquals(1, found.size(), scenario.mode() + ": one connection on port " + port + ": " + found);
        RecordedConnection connection = found.get(0);
        String shown = scenario.mode() + ":\n" + ConnectionFormat.text(connection);
        assertEquals(scenario.ends(), connection.ends().size(), shown);
        assertEquals(scenario.cause(), connection.cause(), shown);
        assertEquals(scenario.mechanism(), connection.mechanism(), shown);

        // The wire: RST in either direction, or none; and who sent the first FIN or RST.
        List<Packet> packets = wire.stream().filter(p -> p.from() == port || p.to() == port).toList();
        assertTrue(!packets.isEmpty(), scenario.mode() + ": the capture holds the connection");
        Mechanism onWire = packets.stream().anyMatch(Packet::reset) ? Mechanism.RST : Mechanism.FIN;
        if (scenario.mechanism() == Mechanism.NONE) {
          // Nothing recorded says how it ended (the killed end alone): the verdict does not guess.
          assertEquals(Mechanism.FIN, onWire, scenario.mode() + ": the system closed the killed end's socket");
        } else {
          assertEquals(onWire, connection.mechanism(), shown);
        }
        Packet first = packets.stream().filter(p -> p.fin() || p.reset()).findFirst().orElse(null);
        assertNotNull(first, scenario.mode() + ": a FIN or RST on the wire");
        assertTrue(connection.initiatorText().endsWith(":" + first.from()),
            scenario.mode() + ": the first FIN/RST came from port " + first.from() + "\n" + shown);
        assertEquals(scenario.clientStarts(), first.from() != port, scenario.mode() + ": the expected side went first");
      }
    }
  }

  /**
   * Runs a recorder until it has had nothing new for half a second, and for 3 s at least: long
   * enough for it to see that a killed process's end was left open (it looks every second, at ends
   * quiet for a second).
   */
  private static void recordEverything(TeardownChannel channel, Path db) throws Exception {
    try (Recorder recorder = Recorder.open(channel, db, Recorder.Options.DEFAULT)) {
      Thread thread = new Thread(recorder::run, "recorder");
      thread.start();
      long seen = -1;
      long started = System.nanoTime();
      long stableSince = System.nanoTime();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
      while (System.nanoTime() < deadline) {
        long now = recorder.progress().recorded();
        if (now != seen) {
          seen = now;
          stableSince = System.nanoTime();
        } else if (now > 0 && System.nanoTime() - stableSince > 500_000_000L
            && System.nanoTime() - started > 3_000_000_000L) {
          break;
        }
        Thread.sleep(20);
      }
      assertTrue(recorder.stopAndWait(Duration.ofSeconds(10)), "the recorder stops");
      thread.join();
      assertEquals(0, recorder.progress().lost(), "nothing lost");
    }
  }

  /** A peer outside the layer that reads what comes, then closes: with SO_LINGER {on, 0} if {@code reset}. */
  private static Thread closingPeer(int port, boolean reset) throws IOException {
    ServerSocket server = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress());
    Thread thread = new Thread(() -> {
      try (server; Socket accepted = server.accept()) {
        accepted.getInputStream().read(new byte[64]);
        if (reset) {
          accepted.setSoLinger(true, 0);
        }
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, reset ? "resetting-peer" : "closing-peer");
    thread.start();
    return thread;
  }

  /**
   * A peer outside the layer that reads until the end of the stream (or a reset), then closes;
   * with {@code greet} it first sends a line, which the client leaves unread.
   */
  private static Thread drainingPeer(int port, boolean greet) throws IOException {
    ServerSocket server = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress());
    Thread thread = new Thread(() -> {
      try (server; Socket accepted = server.accept()) {
        if (greet) {
          accepted.getOutputStream().write("hello\n".getBytes(StandardCharsets.US_ASCII));
        }
        byte[] buffer = new byte[64];
        while (accepted.getInputStream().read(buffer) >= 0) {
          // drained
        }
      } catch (java.net.SocketException reset) {
        // the client's reset: the end of it
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, "draining-peer");
    thread.start();
    return thread;
  }

  /**
   * A port no other scenario uses and no client can be given: each scenario is found in the history
   * by its port, so it is taken below the kernel's ephemeral range (where connects pick their local
   * ports) and distinct from those taken before.
   */
  private static int freePort(java.util.Collection<Integer> taken) throws IOException {
    int ephemeralLow = 32768;
    Path range = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
    if (Files.isReadable(range)) {
      // readAllLines, not readString: a /proc file reports size 0 and readString stops short
      ephemeralLow = Integer.parseInt(Files.readAllLines(range).get(0).trim().split("\\s+")[0]);
    }
    int low = Math.max(1024, ephemeralLow - 8000);
    java.util.Random random = new java.util.Random();
    for (int attempt = 0; attempt < 200; attempt++) {
      int port = low + random.nextInt(Math.max(1, ephemeralLow - low));
      if (taken.contains(port)) {
        continue;
      }
      try (ServerSocket probe = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
        return probe.getLocalPort();
      } catch (IOException inUse) {
        // taken by something else on this machine: try another
      }
    }
    throw new IOException("no free port below the ephemeral range " + ephemeralLow);
  }


  private static void run(Path channel, String... command) throws Exception {
    Process process = LayerProcess.builder(List.of(command), channel).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS), String.join(" ", command) + " finishes");
    assertEquals(0, process.exitValue(), String.join(" ", command) + ": " + output);
  }

  private static List<Packet> readCapture(Path file) throws Exception {
    Process reader = new ProcessBuilder("tshark", "-r", file.toString(), "-T", "fields", "-E", "separator=,",
            "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.flags.fin", "-e", "tcp.flags.reset")
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    List<Packet> packets = new ArrayList<>();
    try (BufferedReader lines = new BufferedReader(new InputStreamReader(reader.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = lines.readLine(); line != null; line = lines.readLine()) {
        String[] field = line.split(",");
        if (field.length < 4) {
          continue;
        }
        packets.add(new Packet(Integer.parseInt(field[0]), Integer.parseInt(field[1]), WireTools.set(field[2]), WireTools.set(field[3])));
      }
    }
    assertTrue(reader.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS));
    assertTrue(!packets.isEmpty(), "the capture holds packets");
    return packets;
  }

}
