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
