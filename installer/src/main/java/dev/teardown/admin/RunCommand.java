package dev.teardown.admin;

import dev.teardown.api.TeardownChannel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code teardown run -- PROGRAM ARGS}: a program under the Linux layer. */
@Command(
    name = "run",
    description = {
      "Run a program under Teardown's Linux layer (LD_PRELOAD), recording into the channel.",
      "The channel is created if it does not exist. SIGINT, SIGTERM and SIGHUP sent to teardown go"
          + " to the program (SIGINT only when not typed at the terminal, which sends it to the"
          + " program itself); teardown exits with the program's exit code, 128 + the signal's"
          + " number when a signal ended it."
    })
final class RunCommand implements Callable<Integer> {
  @Mixin ChannelOption channel;

  @Spec CommandSpec spec;

  @Parameters(arity = "1..*", paramLabel = "PROGRAM [ARGS]", description = "The program and its arguments.")
  List<String> command;

  @Override
  public Integer call() throws IOException, InterruptedException {
    Path directory;
    try (TeardownChannel opened = channel.openOrCreate()) {
      directory = opened.path();
    }
    try (SignalForwarding forwarding = SignalForwarding.install()) {  // null: nothing to forward
      Process process;
      try {
        process = LayerProcess.builder(command, directory).inheritIO().start();
      } catch (IOException e) {
        // As a shell says it: 127 for a program not found, 126 for one that cannot be run.
        boolean missing = String.valueOf(e.getMessage()).contains("error=2,");
        spec.commandLine().getErr().println("teardown run: " + command.get(0) + ": "
            + (missing ? "no such program (not a file, and not found on PATH)"
                : "cannot be run (" + e.getMessage() + ")"));
        return missing ? 127 : 126;
      }
      if (forwarding != null) {
        forwarding.started(process);
      }
      return process.waitFor();
    }
  }
}
