package dev.teardown.admin;

import dev.teardown.api.TeardownChannel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code teardown run -- PROGRAM ARGS}: a program under the Linux layer. */
@Command(
    name = "run",
    description = {
      "Run a program under Teardown's Linux layer (LD_PRELOAD), recording into the channel.",
      "The channel is created if it does not exist. Exits with the program's exit code."
    })
final class RunCommand implements Callable<Integer> {
  @Mixin ChannelOption channel;

  @Parameters(arity = "1..*", paramLabel = "PROGRAM [ARGS]", description = "The program and its arguments.")
  List<String> command;

  @Override
  public Integer call() throws IOException, InterruptedException {
    Path directory;
    try (TeardownChannel opened = channel.openOrCreate()) {
      directory = opened.path();
    }
    Process process = LayerProcess.builder(command, directory).inheritIO().start();
    return process.waitFor();
  }
}
