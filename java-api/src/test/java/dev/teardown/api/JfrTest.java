package dev.teardown.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Events read through the API show up in a JFR recording, fields and all. */
class JfrTest {
  @TempDir Path dir;

  @Test
  void eventsReadDuringARecordingAreInIt() throws Exception {
    Path file = dir.resolve("teardown.jfr");
    TeardownEvent reset = Events.of(EventKind.RESET, 8);
    try (TeardownChannel channel = TeardownChannel.create(dir.resolve("channel"));
        EventReader reader = channel.reader(TeardownChannel.ReadFrom.OLDEST);
        Recording recording = new Recording()) {
      recording.enable("dev.teardown.Teardown");
      recording.start();
      channel.publish(Events.of(EventKind.CLOSE, 7));
      channel.publish(new TeardownEvent(reset.sequence(), reset.timeNanos(), reset.pid(), reset.processName(),
          reset.socketId(), reset.protocol(), reset.socketType(), reset.kind(), reset.error(), null, null,
          reset.linger(), java.util.Set.of(EventFlag.KERNEL_VIEW), 0, null, reset.local(), reset.remote(), null, null,
          "", 32, new KernelView(15, 0, KernelView.UNKNOWN, 0, null, 0, 0, 0)));
      assertEquals(2, reader.read().events().size());
      recording.stop();
      recording.dump(file);
    }
    List<RecordedEvent> recorded =
        RecordingFile.readAllEvents(file).stream()
            .filter(e -> e.getEventType().getName().equals("dev.teardown.Teardown"))
            .toList();
    assertEquals(2, recorded.size());
    RecordedEvent close = recorded.get(0);
    assertEquals("CLOSE", close.getString("kind"));
    assertEquals("GRACEFUL", close.getString("closeMode"));
    assertEquals("client.exe", close.getString("process"));
    assertEquals(7, close.getLong("socket"));
    assertEquals("LOCAL", close.getString("firstShutdown"));
    assertEquals("/127.0.0.1:8080", close.getString("remote"));
    assertEquals(-1, close.getLong("unreadBytes"), "no kernel's view with this close");
    RecordedEvent lost = recorded.get(1);
    assertEquals("RESET", lost.getString("kind"));
    assertEquals("EPIPE (" + WinsockErrors.name(reset.error()) + ")", lost.getString("error"));
    assertEquals(15, lost.getLong("bytesAcked"));
    assertEquals(-1, lost.getLong("unreadBytes"), "not told");
  }
}
