package dev.teardown.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.teardown.api.CloseMode;
import dev.teardown.api.ConnectionSummary;
import dev.teardown.api.Ending;
import dev.teardown.api.EventFlag;
import dev.teardown.api.EventKind;
import dev.teardown.api.Initiator;
import dev.teardown.api.PortRange;
import dev.teardown.api.TeardownChannel;
import dev.teardown.api.TeardownEvent;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WatchAndConfigCommandTest {
  @TempDir Path dir;

  private static TeardownEvent close(long socket, int remotePort, String process) {
    return new TeardownEvent(
        0, 1_780_000_000_000_000_000L, 99, process, socket, 6, 1, EventKind.CLOSE, 0, null,
        CloseMode.ABORTIVE, Duration.ZERO, Set.of(EventFlag.CONVERTED), 3, new byte[] {1, 2, 3},
        new InetSocketAddress("127.0.0.1", 50000), new InetSocketAddress("::1", remotePort),
        new ConnectionSummary(Duration.ofMillis(12), 100, 200, Initiator.LOCAL, Ending.ABORTIVE), null);
  }

  @Test
  void watchPrintsOneJsonObjectPerEventWithFiltersApplied() {
    // Rings of one lane, whose first event is sequence 0.
    try (TeardownChannel channel = TeardownChannel.create(dir, 64)) {
      channel.publish(close(1, 443, "curl"));
      channel.publish(close(2, 8080, "curl\"quoted"));
      channel.publish(close(3, 443, "wget"));
      CommandLineRun run = CommandLineRun.of(
          "watch", "--channel", dir.toString(), "--from-oldest", "--json", "--process", "curl",
          "--port", "400-500", "--count", "1", "--duration", "PT10S");
      assertEquals(0, run.exit(), run.err());
      List<String> lines = run.out().lines().toList();
      assertEquals(1, lines.size(), run.out());
      String json = lines.get(0);
      assertTrue(json.startsWith("{\"sequence\":0,"), json);
      assertTrue(json.contains("\"kind\":\"CLOSE\",\"how\":null,\"mode\":\"ABORTIVE\""), json);
      assertTrue(json.contains("\"remote\":\"[0:0:0:0:0:0:0:1]:443\""), json);
      assertTrue(json.contains("\"captured\":\"010203\""), json);
      assertTrue(json.contains("\"flags\":[\"CONVERTED\"]"), json);
      assertTrue(json.contains("\"summary\":{\"lifetimeNanos\":12000000,"), json);
      assertTrue(run.err().contains("1 shown, 0 lost"), run.err());
    }
  }

  @Test
  void watchStartedBeforeTheChannelSaysWhatItWaitsForAndStartsWhenItAppears() throws Exception {
    Path later = dir.resolve("later");
    java.util.concurrent.CompletableFuture<CommandLineRun> watching = java.util.concurrent.CompletableFuture.supplyAsync(
        () -> CommandLineRun.of("watch", "--channel", later.toString(), "--from-oldest", "--json",
            "--count", "1", "--duration", "60s"));
    Thread.sleep(600);  // the watch has looked at least twice by now
    assertTrue(!watching.isDone(), "the watch waits instead of failing");
    try (TeardownChannel channel = TeardownChannel.create(later, 64)) {
      channel.publish(close(1, 443, "curl"));
      CommandLineRun run = watching.get(60, java.util.concurrent.TimeUnit.SECONDS);
      assertEquals(0, run.exit(), run.err());
      assertTrue(run.err().startsWith("teardown: waiting until a channel appears (no channel at " + later + ": "),
          run.err());
      assertEquals(1, run.err().lines().filter(line -> line.contains("waiting")).count(), "said once: " + run.err());
      assertEquals(1, run.out().lines().count(), run.out());
      assertTrue(run.out().contains("\"process\":\"curl\""), run.out());
    }
  }

  @Test
  void aWatchWhoseChannelNeverAppearsEndsWithItsDurationAndSaysSo() {
    Path never = dir.resolve("never");
    CommandLineRun run = CommandLineRun.of("watch", "--channel", never.toString(), "--duration", "500ms");
    assertEquals(1, run.exit(), run.err());
    assertTrue(run.err().strip().endsWith("teardown: no channel appeared in 500ms; no channel at " + never
        + ": `teardown init --channel " + never + "` makes it (`teardown run --channel " + never
        + " -- PROGRAM` makes it and runs PROGRAM)"), run.err());
    assertTrue(!java.nio.file.Files.exists(never), "a watch makes no channel");
  }

  @Test
  void watchEscapesWhatProcessesCallThemselves() {
    try (TeardownChannel channel = TeardownChannel.create(dir)) {
      channel.publish(close(2, 8080, "curl\"quoted"));
      CommandLineRun run = CommandLineRun.of(
          "watch", "--channel", dir.toString(), "--from-oldest", "--json", "--count", "1", "--duration", "PT10S");
      assertTrue(run.out().contains("\"process\":\"curl\\\"quoted\""), run.out());
    }
  }

  @Test
  void watchTableShowsModeErrorAndSummary() {
    try (TeardownChannel channel = TeardownChannel.create(dir)) {
      channel.publish(close(1, 443, "curl"));
      CommandLineRun run = CommandLineRun.of(
          "watch", "--channel", dir.toString(), "--from-oldest", "--count", "1", "--duration", "PT10S");
      assertEquals(0, run.exit(), run.err());
      List<String> lines = run.out().lines().toList();
      assertTrue(lines.get(0).startsWith("TIME"), run.out());
      assertTrue(lines.get(1).contains("curl[99]"), lines.get(1));
      assertTrue(lines.get(1).contains("CLOSE ABORTIVE"), lines.get(1));
      assertTrue(lines.get(1).contains("abortive, first local, 12.0ms, sent 100 recv 200"), lines.get(1));
    }
  }

  @Test
  void configSetChangesTheLiveConfigurationAndShowReadsIt() {
    try (TeardownChannel channel = TeardownChannel.create(dir)) {
      CommandLineRun set = CommandLineRun.of(
          "config", "set", "--channel", dir.toString(), "kinds=close,reset", "ports=443,8000-8099",
          "processes=curl", "capture=64", "abortive-to-graceful=on", "emulation-ports=7000");
      assertEquals(0, set.exit(), set.err());
      assertEquals(Set.of(EventKind.CLOSE, EventKind.RESET), channel.configuration().kinds());
      assertEquals(List.of(PortRange.of(443), new PortRange(8000, 8099)), channel.configuration().ports());
      assertTrue(channel.configuration().abortiveToGraceful());
      CommandLineRun show = CommandLineRun.of("config", "show", "--channel", dir.toString(), "--json");
      assertEquals(
          "{\"enabled\":true,\"kinds\":[\"CLOSE\",\"RESET\"],\"processes\":[\"curl\"],"
              + "\"ports\":[\"443\",\"8000-8099\"],\"captureBytes\":64,\"emulationPorts\":[7000],"
              + "\"abortiveToGraceful\":true}",
          show.out().strip());
      assertEquals(0, CommandLineRun.of("config", "reset", "--channel", dir.toString()).exit());
      assertEquals(dev.teardown.api.Configuration.DEFAULT, channel.configuration());
    }
  }

  @Test
  void badSettingsAreRejectedByNameAndNothingChanges() {
    try (TeardownChannel channel = TeardownChannel.create(dir)) {
      for (String[] bad : new String[][] {
          {"capture=999", "captureBytes"}, {"kinds=CLOSE,BOGUS", "BOGUS"}, {"colour=blue", "unknown key 'colour'"},
          {"ports=70000", "70000"}, {"enabled=maybe", "not true or false"}, {"capture", "not KEY=VALUE"}}) {
        CommandLineRun run = CommandLineRun.of("config", "set", "--channel", dir.toString(), "processes=x", bad[0]);
        assertEquals(2, run.exit(), bad[0]);
        assertTrue(run.err().contains(bad[1]), bad[0] + ": " + run.err());
        assertEquals(dev.teardown.api.Configuration.DEFAULT, channel.configuration(), "nothing written for " + bad[0]);
      }
    }
  }
}
