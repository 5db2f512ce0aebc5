package dev.teardown.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.teardown.api.EventKind;
import dev.teardown.api.EventReader;
import dev.teardown.api.TeardownChannel;
import dev.teardown.api.TeardownEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
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

  // ---- signals: teardown run in a JVM of its own, as a shell or a service manager starts it

  /** Every process a test started, killed at the end whatever happened. */
  private final List<Process> started = new ArrayList<>();

  @AfterEach
  void killWhatIsLeft() throws InterruptedException {
    for (Process process : started) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }
  }

  /** A program that writes its pid to {@code pidFile}, then waits; it traps what {@code traps} says. */
  private Process teardownRun(List<String> prefix, String script, Path pidFile) throws Exception {
    List<String> command = new ArrayList<>(prefix);
    command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), TeardownCommand.class.getName(),
        "run", "--channel", dir.resolve("channel").toString(), "--", "sh", "-c",
        script + "; echo $$ > " + pidFile + ".tmp; mv " + pidFile + ".tmp " + pidFile
            + "; i=0; while [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; exit 3"));
    Process process = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(dir.resolve("output").toFile()).start();
    started.add(process);
    return process;
  }

  private static long pidOnceWritten(Path pidFile, Process teardown) throws Exception {
    for (int i = 0; i < 600 && !Files.exists(pidFile); i++) {
      assertTrue(teardown.isAlive(), "teardown ended before the program started");
      Thread.sleep(50);
    }
    return Long.parseLong(Files.readString(pidFile).strip());
  }

  private static int sendSignal(long pid, String signal) throws Exception {
    return new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).start().waitFor();
  }

  @Test
  void eachSignalThatEndsAProgramGoesToItAndTeardownExitsWithWhatTheProgramDid() throws Exception {
    for (String signal : List.of("TERM", "HUP", "INT")) {
      Path pidFile = dir.resolve("pid-" + signal);
      int code = switch (signal) { case "TERM" -> 41; case "HUP" -> 42; default -> 43; };
      Process teardown = teardownRun(List.of(), "trap 'exit " + code + "' " + signal, pidFile);
      long program = pidOnceWritten(pidFile, teardown);
      assertEquals(0, sendSignal(teardown.pid(), signal));
      assertTrue(teardown.waitFor(30, TimeUnit.SECONDS), signal + ": teardown waits for the program, then ends");
      assertEquals(code, teardown.exitValue(), signal + ": the program's trap ran; "
          + Files.readString(dir.resolve("output")));
      assertFalse(alive(program), signal);
    }
  }

  @Test
  void aProgramASignalEndsMakesTeardownExitAsAShellWould() throws Exception {
    Path pidFile = dir.resolve("pid");
    Process teardown = teardownRun(List.of(), "true", pidFile);
    long program = pidOnceWritten(pidFile, teardown);
    assertEquals(0, sendSignal(teardown.pid(), "TERM"));
    assertTrue(teardown.waitFor(30, TimeUnit.SECONDS));
    assertEquals(128 + 15, teardown.exitValue(), Files.readString(dir.resolve("output")));
    assertFalse(alive(program), "the program ended first");
  }

  /**
   * Plain {@code timeout} signals its whole process group; {@code --foreground} signals the command
   * alone, as a service manager or a supervisor does: either way nothing is left running.
   */
  @Test
  void aTimeoutAroundTeardownRunLeavesNoProgramBehind() throws Exception {
    for (List<String> timeout : List.of(List.of("timeout", "3"), List.of("timeout", "--foreground", "3"))) {
      Path pidFile = dir.resolve("pid" + timeout.size());
      Process timed = teardownRun(timeout, "true", pidFile);
      long program = pidOnceWritten(pidFile, timed);
      assertTrue(timed.waitFor(60, TimeUnit.SECONDS));
      assertEquals(124, timed.exitValue(), timeout + ": timeout's own code, it had to end the command");
      for (int i = 0; i < 100 && alive(program); i++) {
        Thread.sleep(50);
      }
      assertFalse(alive(program), timeout + ": the program ended with teardown");
    }
  }

  private static boolean alive(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }
}
