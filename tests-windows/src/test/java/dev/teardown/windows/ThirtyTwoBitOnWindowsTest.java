package dev.teardown.windows;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.teardown.api.CloseMode;
import dev.teardown.api.EventKind;
import dev.teardown.api.Initiator;
import dev.teardown.windows.Machine.Run;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * The 32-bit catalog: a 32-bit program loads the 32-bit teardown_lsp.dll (from SysWOW64), which
 * writes to the same channel as the 64-bit one, in the same layout.
 */
@EnabledOnOs(value = OS.WINDOWS, disabledReason = "needs real Windows with Teardown installed: runs on the GitHub windows job")
class ThirtyTwoBitOnWindowsTest {
  @Test
  void aThirtyTwoBitProgramIsRecordedThroughTheThirtyTwoBitCatalog() throws Exception {
    Run run = Machine.probe(32, "graceful");
    assertEquals(List.of(EventKind.SHUTDOWN, EventKind.EOF, EventKind.CLOSE), run.kinds("client"));
    assertEquals(List.of(EventKind.EOF, EventKind.CLOSE), run.kinds("server"));
    assertEquals(CloseMode.GRACEFUL, run.single("client", EventKind.CLOSE).closeMode());
    assertEquals(Initiator.REMOTE, run.single("server", EventKind.CLOSE).summary().firstShutdown());
  }

  @Test
  void thirtyTwoBitOverlappedCompletionsAreRecorded() throws Exception {
    Run run = Machine.probe(32, "overlapped");
    // In compatible mode a completion port's completions pass Teardown by.
    List<String> seen = Machine.mode() == Machine.Mode.FULL ? List.of("event", "routine", "port")
        : List.of("event", "routine");
    for (String style : seen) {
      run.single("server-" + style, EventKind.EOF);
    }
  }

  @Test
  void thirtyTwoBitAbortiveCloseIsRecorded() throws Exception {
    Run run = Machine.probe(32, "abortive");
    assertEquals(CloseMode.ABORTIVE, run.single("client", EventKind.CLOSE).closeMode());
    assertEquals(Machine.WSAECONNRESET, run.single("server", EventKind.RESET).error());
  }
}
