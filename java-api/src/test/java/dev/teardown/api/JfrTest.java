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
    try (TeardownChannel channel = TeardownChannel.create(dir.resolve("channel"));
        EventReader reader = channel.reader(TeardownChannel.ReadFrom.OLDEST);
        Recording recording = new Recording()) {
      recording.enable("dev.teardown.Teardown");
      recording.start();
      channel.publish(Events.of(EventKind.CLOSE, 7));
      channel.publish(Events.of(EventKind.RESET, 8));
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
    assertEquals("RESET", recorded.get(1).getString("kind"));
  }
}
