package dev.teardown.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.teardown.api.EventKind;
import dev.teardown.api.EventReader;
import dev.teardown.api.TeardownChannel;
import dev.teardown.api.TeardownEvent;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

@EnabledOnOs(value = OS.LINUX, disabledReason = "the Linux layer")
class RunCommandTest {
  @TempDir Path dir;

  private static final String HALF_CLOSE =
      "import socket\n"
          + "l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen()\n"
          + "c = socket.create_connection(l.getsockname()); s, _ = l.accept()\n"
          + "c.shutdown(socket.SHUT_WR); assert s.recv(1) == b''\n"
          + "s.close(); c.close(); l.close()\n";

  @Test
  void runStartsTheProgramUnderTheLayerCreatingTheChannel() {
    Path channel = dir.resolve("made-by-run");
    CommandLineRun run = CommandLineRun.of("run", "--channel", channel.toString(), "--", "python3", "-c", HALF_CLOSE);
    assertEquals(0, run.exit(), run.err());
    try (TeardownChannel opened = TeardownChannel.open(channel);
        EventReader reader = opened.reader(TeardownChannel.ReadFrom.OLDEST)) {
      List<EventKind> kinds = reader.read().events().stream().map(TeardownEvent::kind).toList();
      assertEquals(List.of(EventKind.SHUTDOWN, EventKind.EOF, EventKind.CLOSE, EventKind.CLOSE), kinds);
    }
  }

  @Test
  void runExitsWithTheProgramsExitCode() {
    CommandLineRun run = CommandLineRun.of("run", "--channel", dir.toString(), "--", "sh", "-c", "exit 7");
    assertEquals(7, run.exit());
  }

  @Test
  void aProgramThatIsNotThereIsOneClearLineAndTheShellsExitCode() {
    CommandLineRun run = CommandLineRun.of("run", "--channel", dir.toString(), "--", "/no/such/program");
    assertEquals(127, run.exit(), run.err());
    assertEquals("teardown run: /no/such/program: no such program (not a file, and not found on PATH)",
        run.err().strip());
  }
}
