package dev.teardown.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.teardown.api.CloseMode;
import dev.teardown.api.EventKind;
import dev.teardown.api.EventReader;
import dev.teardown.api.TeardownChannel;
import dev.teardown.api.TeardownEvent;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * Unmodified programs under the Linux layer, checked against the wire: every CLOSE is abortive
 * exactly when its side sent a RST and graceful exactly when it sent a FIN, and every FIN and RST
 * captured on loopback is accounted for by an event. Needs tshark (capture on lo: root), python3,
 * curl and nc; `./teardown test` installs them.
 */
@EnabledOnOs(value = OS.LINUX, disabledReason = "the Linux layer")
class RealProgramsOnTheWireTest {
  private static final long TIMEOUT_SECONDS = 60;

  @TempDir Path dir;

  /** One direction of a TCP connection on the wire: what it carried. */
  private record Direction(int from, int to) {}

  private static final class Flags {
    boolean syn;
    boolean fin;
    boolean reset;
  }

  @Test
  void closesAgreeWithTheFinOrRstOnTheWireAndNothingIsMissed() throws Exception {
    for (String tool : List.of("tshark", "python3", "curl", "nc")) {
      assertTrue(WireTools.onPath(tool), tool + " is not installed (./teardown test installs it)");
    }
    Path capture = dir.resolve("loopback.pcapng");
    List<TeardownEvent> events = new ArrayList<>();
    Set<Long> pids = new HashSet<>();
    try (TeardownChannel channel = TeardownChannel.create(dir.resolve("channel"), 1 << 14);
        EventReader reader = channel.reader(TeardownChannel.ReadFrom.OLDEST)) {
      Process tshark = WireTools.startCapture(capture);
      try {
        for (String mode : List.of("graceful", "halfclose", "reset")) {
          pids.add(run(channel.path(), "python3", WireTools.program(dir, "python_peers.py"), mode));
        }
        for (String mode : List.of("graceful", "reset")) {
          pids.add(run(channel.path(), javaLauncher(), WireTools.program(dir, "JavaPeers.java"), mode));
        }
        pids.addAll(curlAgainstHttpServer(channel.path()));
        pids.addAll(netcatPair(channel.path()));
        Thread.sleep(500);  // the last packets reach the capture
      } finally {
        WireTools.stopCapture(tshark, TIMEOUT_SECONDS);
      }
      for (EventReader.Batch batch = reader.read(); !batch.isEmpty(); batch = reader.read()) {
        assertEquals(0, batch.lost(), "no event lost");
        events.addAll(batch.events());
      }
    }
    Map<Direction, Flags> wire = readCapture(capture);
    // The channel is this test's own: every event in it comes from the programs above (and the
    // children they forked, such as nc under sh).
    assertTrue(events.stream().map(TeardownEvent::pid).anyMatch(pids::contains), "events from the programs");
    events.forEach(event -> System.out.println("event: " + event));
    List<TeardownEvent> closes = events.stream().filter(e -> e.kind() == EventKind.CLOSE).toList();
    assertTrue(closes.size() >= 14, "both ends of 7 connections close: " + closes);

    Set<Direction> explained = new HashSet<>();
    for (TeardownEvent close : closes) {
      Direction sent = new Direction(close.local().getPort(), close.remote().getPort());
      Flags flags = wire.get(sent);
      assertTrue(flags != null, "the wire carried " + sent + " for " + close);
      boolean peerReset = close.summary().ending() == dev.teardown.api.Ending.ABORTIVE
          && close.closeMode() != CloseMode.ABORTIVE;
      if (close.closeMode() == CloseMode.ABORTIVE) {
        assertTrue(flags.reset, "an abortive close sent a RST: " + close);
        assertFalse(flags.fin, "an abortive close sent no FIN: " + close);
      } else if (!peerReset) {
        assertTrue(flags.fin, "a graceful close sent a FIN: " + close);
        assertFalse(flags.reset, "a graceful close sent no RST: " + close);
      } else {
        assertTrue(wire.get(new Direction(sent.to(), sent.from())).reset, "the peer's RST: " + close);
      }
      explained.add(sent);
    }
    // Nothing missed: every direction of these connections that carried a FIN or RST was closed,
    // shut down or sent a disconnect by a program we saw.
    Set<Integer> ports = new HashSet<>();
    explained.forEach(d -> ports.add(d.from()));
    wire.forEach((direction, flags) -> {
      if ((flags.fin || flags.reset) && ports.contains(direction.to())) {
        assertTrue(explained.contains(direction) || hasShutdown(events, direction),
            "a FIN/RST on the wire with no event: " + direction);
      }
    });
    // The peers of the resetting clients saw the reset.
    long resets = events.stream().filter(e -> e.kind() == EventKind.RESET).count();
    assertTrue(resets >= 2, "python's and java's servers each saw a reset: " + events);
  }

  private static boolean hasShutdown(List<TeardownEvent> events, Direction direction) {
    return events.stream().anyMatch(e ->
        (e.kind() == EventKind.SHUTDOWN || e.kind() == EventKind.SEND_DISCONNECT)
            && e.local() != null && e.remote() != null
            && e.local().getPort() == direction.from() && e.remote().getPort() == direction.to());
  }


  private static String javaLauncher() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }



  private static long run(Path channel, String... command) throws Exception {
    Process process = LayerProcess.builder(List.of(command), channel)
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    assertTrue(process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS), String.join(" ", command) + " finishes");
    assertEquals(0, process.exitValue(), String.join(" ", command));
    return process.pid();
  }

  private static List<Long> curlAgainstHttpServer(Path channel) throws Exception {
    Process server = LayerProcess.builder(
            List.of("python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1"), channel)
        .redirectErrorStream(true).start();
    try {
      BufferedReader output = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
      String banner = output.readLine();
      assertTrue(banner != null && banner.contains(" port "), "http.server started: " + banner);
      String port = banner.replaceAll(".* port (\\d+).*", "$1");
      long curl = run(channel, "curl", "-s", "-o", "/dev/null", "http://127.0.0.1:" + port + "/");
      long curl2 = run(channel, "curl", "-s", "-o", "/dev/null", "http://127.0.0.1:" + port + "/missing");
      Thread.sleep(200);
      return List.of(server.pid(), curl, curl2);
    } finally {
      server.destroy();
      server.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }
  }

  private static List<Long> netcatPair(Path channel) throws Exception {
    int port;
    try (ServerSocket probe = new ServerSocket(0)) {
      port = probe.getLocalPort();
    }
    Process server = LayerProcess.builder(List.of("nc", "-l", "127.0.0.1", Integer.toString(port)), channel)
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(true).start();
    Thread.sleep(300);
    long client = run(channel, "sh", "-c", "printf hello | nc -N 127.0.0.1 " + port);
    assertTrue(server.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS), "nc -l finishes once the client is done");
    return List.of(server.pid(), client);
  }

  private static Map<Direction, Flags> readCapture(Path file) throws Exception {
    Process reader = new ProcessBuilder("tshark", "-r", file.toString(), "-T", "fields", "-E", "separator=,",
            "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.flags.syn", "-e", "tcp.flags.fin",
            "-e", "tcp.flags.reset")
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    Map<Direction, Flags> wire = new HashMap<>();
    try (BufferedReader lines = new BufferedReader(new InputStreamReader(reader.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = lines.readLine(); line != null; line = lines.readLine()) {
        String[] field = line.split(",");
        if (field.length < 5) {
          continue;
        }
        Flags flags = wire.computeIfAbsent(
            new Direction(Integer.parseInt(field[0]), Integer.parseInt(field[1])), d -> new Flags());
        flags.syn |= WireTools.set(field[2]);
        flags.fin |= WireTools.set(field[3]);
        flags.reset |= WireTools.set(field[4]);
      }
    }
    assertTrue(reader.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS));
    assertFalse(wire.isEmpty(), "the capture holds packets");
    return wire;
  }

}
