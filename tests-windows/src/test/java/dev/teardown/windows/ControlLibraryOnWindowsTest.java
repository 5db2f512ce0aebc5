package dev.teardown.windows;

import java.util.Set;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.teardown.api.CloseMode;
import dev.teardown.api.Configuration;
import dev.teardown.api.EventKind;
import dev.teardown.api.EventReader;
import dev.teardown.api.TeardownChannel;
import dev.teardown.api.TeardownEvent;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/** teardown.dll, as packaged under win32-x86-64, on real Windows: files, mappings, ACLs, locks. */
@EnabledOnOs(value = OS.WINDOWS, disabledReason = "needs real Windows: runs on the GitHub windows job")
class ControlLibraryOnWindowsTest {
  @TempDir Path dir;

  @Test
  void aChannelCreatedOnWindowsCarriesEventsAndConfiguration() {
    try (TeardownChannel channel = TeardownChannel.create(dir.resolve("Teardown"), 256);
        EventReader reader = channel.reader(TeardownChannel.ReadFrom.OLDEST)) {
      channel.configure(Configuration.builder().captureBytes(16).build());
      channel.publish(
          new TeardownEvent(
              0, TeardownEvent.epochNanos(Instant.now()), ProcessHandle.current().pid(), "java.exe", 0x1F4, 6, 1,
              EventKind.CLOSE, 0, null, CloseMode.ABORTIVE, Duration.ZERO, Set.of(), 0, null,
              new InetSocketAddress("127.0.0.1", 5000), new InetSocketAddress("127.0.0.1", 80),
              null, null));
      List<TeardownEvent> events = reader.read().events();
      assertEquals(1, events.size());
      assertEquals(CloseMode.ABORTIVE, events.get(0).closeMode());
    }
    try (TeardownChannel reopened = TeardownChannel.open(dir.resolve("Teardown"))) {
      assertEquals(16, reopened.configuration().captureBytes());
    }
  }
}
