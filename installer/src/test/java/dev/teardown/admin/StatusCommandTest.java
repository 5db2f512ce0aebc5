package dev.teardown.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.teardown.api.Configuration;
import dev.teardown.api.TeardownChannel;
import java.nio.file.Path;
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
      assertTrue(run.out().contains("(128 events held)"), run.out());
      assertTrue(run.out().contains("processes   curl"), run.out());
      assertTrue(run.out().contains("capture     32 bytes"), run.out());
      if (!com.sun.jna.Platform.isWindows()) {
        assertTrue(run.out().contains("catalog     not on Windows"), run.out());
      }
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
  void aMissingChannelIsOneClearLineAndExitCodeOne() {
    CommandLineRun run = run("status", "--channel", dir.resolve("absent").toString());
    assertEquals(1, run.exit());
    assertTrue(run.err().startsWith("teardown: opening channel "), run.err());
    assertTrue(run.err().contains("channel not found"), run.err());
    assertEquals(1, run.err().strip().lines().count(), run.err());
  }

  @Test
  void anUnknownVerbIsAUsageError() {
    assertEquals(2, run("frobnicate").exit());
  }
}
