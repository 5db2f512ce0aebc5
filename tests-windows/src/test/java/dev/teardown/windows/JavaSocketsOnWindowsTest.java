package dev.teardown.windows;

import static dev.teardown.windows.Machine.WSAECONNRESET;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.teardown.api.CloseMode;
import dev.teardown.api.EventKind;
import dev.teardown.api.Initiator;
import dev.teardown.api.ShutdownHow;
import dev.teardown.api.TeardownEvent;
import dev.teardown.windows.Machine.Run;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * The seed's rules from Java sockets ({@link JavaPeers}, in a JVM of its own): the blocking
 * sockets of java.net, and NIO.2's asynchronous channels, which use AcceptEx, ConnectEx and a
 * completion port underneath.
 */
@EnabledOnOs(value = OS.WINDOWS, disabledReason = "needs real Windows with Teardown installed: runs on the GitHub windows job")
class JavaSocketsOnWindowsTest {
  @Test
  void javaSocketsShutdownOutputAndCloseAreRecorded() throws Exception {
    Run run = Machine.java("graceful");
    assertEquals(ShutdownHow.SEND, run.single("client", EventKind.SHUTDOWN).shutdownHow());
    run.single("server", EventKind.EOF);
    run.single("client", EventKind.EOF);
    TeardownEvent client = run.single("client", EventKind.CLOSE);
    assertEquals(CloseMode.GRACEFUL, client.closeMode());
    assertEquals(Initiator.LOCAL, client.summary().firstShutdown());
    assertEquals(5, client.summary().bytesSent());
    assertEquals("java.exe", client.processName().toLowerCase());
  }

  @Test
  void javaSoLingerZeroIsAnAbortiveCloseAndThePeerSeesTheReset() throws Exception {
    Run run = Machine.java("abortive");
    assertEquals(CloseMode.ABORTIVE, run.single("client", EventKind.CLOSE).closeMode());
    assertTrue(run.output().contains("server read failed"), "java.net reports the reset:\n" + run.output());
    assertEquals(WSAECONNRESET, run.single("server", EventKind.RESET).error());
  }

  @Test
  void asynchronousChannelsEndOfStreamThroughTheCompletionPortIsRecorded() throws Exception {
    Run run = Machine.java("async");
    assertEquals(List.of(EventKind.SHUTDOWN, EventKind.CLOSE), run.kinds("client"));
    TeardownEvent server = run.single("server", EventKind.CLOSE);
    if (Machine.mode() == Machine.Mode.FULL) {
      assertEquals(List.of(EventKind.EOF, EventKind.CLOSE), run.kinds("server"));
      assertEquals(5, server.summary().bytesReceived(), "the overlapped receives' bytes");
    } else {
      // The completions reach the JVM's port straight from the provider below.
      assertEquals(List.of(EventKind.CLOSE), run.kinds("server"));
    }
    assertEquals(run.single("client", EventKind.CLOSE).local().getPort(), server.remote().getPort(),
        "the endpoints of a socket accepted with AcceptEx");
  }
}
