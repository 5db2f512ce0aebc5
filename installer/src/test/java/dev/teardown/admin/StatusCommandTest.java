package dev.teardown.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.teardown.api.Configuration;
import dev.teardown.api.TeardownChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StatusCommandTest {
  @TempDir Path dir;

  private static CommandLineRun run(String... args) {
    return CommandLineRun.of(args);
  }

  @Test
  void statusShowsCountersAndTheLiveConfiguration() {
    try (TeardownChannel channel = TeardownChannel.create(dir, 128)) {
      channel.configure(Configuration.builder().processes(List.of("curl")).captureBytes(32).build());
      CommandLineRun run = run("status", "--channel", dir.toString());
      assertEquals(0, run.exit(), run.err());
      assertTrue(run.out().contains("ready (128 events held per user)"), run.out());
      assertTrue(run.out().contains("processes   curl"), run.out());
      assertTrue(run.out().contains("capture     32 bytes"), run.out());
      if (!com.sun.jna.Platform.isWindows()) {
        assertTrue(run.out().contains("catalog     not on Windows"), run.out());
      }
    }
  }

  @Test
  void statusShowsTheHistoryAndWhetherARecorderIsAtIt() throws Exception {
    Path db = dir.resolve("history.db");
    try (TeardownChannel channel = TeardownChannel.create(dir.resolve("channel"), 128)) {
      CommandLineRun none = run("status", "--channel", channel.path().toString(), "--db", db.toString());
      assertTrue(none.out().contains("history     none at " + db + " (`teardown record` starts one); no recorder running"),
          none.out());
      channel.publish(new dev.teardown.api.TeardownEvent(0, dev.teardown.api.TeardownEvent.epochNanos(java.time.Instant.now()),
          1, "p", 3, 6, 1, dev.teardown.api.EventKind.EOF, 0, null, null, java.time.Duration.ZERO, java.util.Set.of(), 0,
          null, new java.net.InetSocketAddress("127.0.0.1", 1000), new java.net.InetSocketAddress("127.0.0.1", 2000),
          null, null));
      try (dev.teardown.history.Recorder recorder =
          dev.teardown.history.Recorder.open(channel, db, dev.teardown.history.Recorder.Options.DEFAULT)) {
        recorder.stop();
        recorder.run();  // one pass: read, commit, return
        CommandLineRun running = run("status", "--channel", channel.path().toString(), "--db", db.toString());
        assertTrue(running.out().contains("history     " + db + ": 1 events recorded, 0 lost, 1 connection ends held"),
            running.out());
        assertTrue(running.out().contains("recorder running (pid " + ProcessHandle.current().pid() + ")"), running.out());
        CommandLineRun json = run("status", "--json", "--channel", channel.path().toString(), "--db", db.toString());
        assertTrue(json.out().contains("\"history\":{\"file\":" + EventFormat.quote(db.toString())
            + ",\"recorderPid\":" + ProcessHandle.current().pid() + ",\"error\":null,\"events\":1,\"lost\":0,\"ends\":1,"),
            json.out());
      }
      Files.writeString(db, "not a database, and more than sixteen bytes long");
      CommandLineRun broken = run("status", "--channel", channel.path().toString(), "--db", db.toString());
      assertEquals(0, broken.exit(), "the channel's status still shows");
      assertTrue(broken.out().contains("history     " + db + ": not a Teardown history"), broken.out());
    }
  }

  @Test
  void statusSaysWhatARingHoldsOfOneThreadsBurstBesideItsTotal() {
    try (TeardownChannel channel = TeardownChannel.create(dir, 16384)) {
      int lane = channel.laneCapacity();
      CommandLineRun run = run("status", "--channel", dir.toString());
      assertEquals(0, run.exit(), run.err());
      String expected = lane == 16384 ? "ready (16384 events held per user)"
          : "ready (16384 events held per user, in " + 16384 / lane + " lanes: one thread's burst (or several"
              + " threads' sharing a lane) is held up to " + lane + ")";
      assertTrue(run.out().contains(expected), run.out());
      CommandLineRun json = run("status", "--channel", dir.toString(), "--json");
      assertTrue(json.out().contains("\"capacity\":16384,\"laneCapacity\":" + lane + ","), json.out());
    }
  }

  @Test
  void jsonIsOneObjectForScripts() {
    try (TeardownChannel channel = TeardownChannel.create(dir, 128)) {
      channel.configure(Configuration.builder().captureBytes(16).abortiveToGraceful(true).build());
      CommandLineRun run = run("status", "--json", "--channel", dir.toString());
      assertEquals(0, run.exit(), run.err());
      String json = run.out().strip();
      assertTrue(json.startsWith("{\"channel\":") && json.endsWith("}"), json);
      assertEquals(1, json.lines().count(), json);
      assertTrue(json.contains("\"capacity\":128"), json);
      assertTrue(json.contains("\"configuration\":{\"enabled\":true,"), json);
      assertTrue(json.contains("\"captureBytes\":16,"), json);
      assertTrue(json.contains("\"abortiveToGraceful\":true}"), json);
      if (!com.sun.jna.Platform.isWindows()) {
        assertTrue(json.endsWith("\"catalogs\":null}"), json);
      }
    }
  }

  @Test
  void initMakesAChannelThatStatusCallsReadyWithNoEventsAndWatchWaitsOn() throws Exception {
    Path channel = dir.resolve("made");
    CommandLineRun init = run("init", "--channel", channel.toString(), "--slots", "128");
    assertEquals(0, init.exit(), init.err());
    assertTrue(init.out().contains(channel + " ready, 0 events"), init.out());
    if (!com.sun.jna.Platform.isWindows()) {
      assertEquals(
          "rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(channel)));
      assertEquals("rw-r--r--",
          PosixFilePermissions.toString(Files.getPosixFilePermissions(channel.resolve("config"))));
    }
    CommandLineRun status = run("status", "--channel", channel.toString());
    assertEquals(0, status.exit(), status.err());
    assertTrue(status.out().contains("ready (128 events held per user)"), status.out());
    assertTrue(status.out().contains("events      0 produced"), status.out());
    // A watch started before any program: it waits, and ends when its time is up.
    CommandLineRun watch = run("watch", "--channel", channel.toString(), "--duration", "PT0.5S");
    assertEquals(0, watch.exit(), watch.err());
  }

  @Test
  void statusSaysWhoseProgramsHonourTheConfiguration() throws Exception {
    try (TeardownChannel channel = TeardownChannel.create(dir, 128)) {
      assertTrue(channel.configurationOwner().mine());
      CommandLineRun run = run("status", "--channel", dir.toString());
      String me = System.getProperty("user.name");
      boolean admin = "root".equals(me);
      assertTrue(run.out().contains(admin
                         ? "owned by root, an administrator: every user's programs honour it"
                         : "only " + me + "'s programs honour it"),
          run.out());
      if (!com.sun.jna.Platform.isWindows()) {
        Files.setPosixFilePermissions(
            dir.resolve("config"), PosixFilePermissions.fromString("rw-rw-rw-"));
        run = run("status", "--channel", dir.toString(), "--json");
        assertTrue(run.out().contains("writable by others: no program honours it"), run.out());
        assertTrue(run.out().contains("\"configurationHonouredByEveryone\":false"), run.out());
        assertTrue(run.out().contains("\"configuration\":{\"enabled\":true,"), run.out());
      }
    }
  }

  @Test
  void aMissingChannelIsOneClearLineAndExitCodeOne() {
    Path absent = dir.resolve("absent");
    CommandLineRun run = run("status", "--channel", absent.toString());
    assertEquals(1, run.exit());
    assertEquals("teardown: no channel at " + absent + ": `teardown init --channel " + absent + "` makes it"
        + " (`teardown run --channel " + absent + " -- PROGRAM` makes it and runs PROGRAM)", run.err().strip());
  }

  @Test
  void anUnknownVerbIsAUsageError() {
    assertEquals(2, run("frobnicate").exit());
  }
}
