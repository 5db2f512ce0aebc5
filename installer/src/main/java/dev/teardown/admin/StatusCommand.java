package dev.teardown.admin;

import dev.teardown.api.Configuration;
import dev.teardown.api.Counters;
import dev.teardown.api.EventKind;
import dev.teardown.api.TeardownChannel;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code teardown status}: where the channel is, what it holds, how it is configured. */
@Command(name = "status", description = "Show the channel, its counters and the live configuration.")
final class StatusCommand implements Callable<Integer> {
  @Option(
      names = "--channel",
      paramLabel = "DIR",
      description = "Channel directory (default: $TEARDOWN_CHANNEL, else the platform's).")
  Path channelDir;

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    try (TeardownChannel channel =
        channelDir == null ? TeardownChannel.open() : TeardownChannel.open(channelDir)) {
      PrintWriter out = spec.commandLine().getOut();
      Counters counters = channel.counters();
      Configuration config = channel.configuration();
      out.printf("channel     %s (%d events held)%n", channel.path(), channel.capacity());
      out.printf("events      %d produced, %d dropped by producers%n", counters.produced(), counters.dropped());
      for (EventKind kind : EventKind.values()) {
        out.printf("  %-16s %d%n", kind, counters.published(kind));
      }
      out.printf("recording   %s%n", config.enabled() ? "enabled" : "disabled");
      out.printf("kinds       %s%n", config.kinds().stream().map(Enum::name).sorted().collect(Collectors.joining(",")));
      out.printf("processes   %s%n", config.processes().isEmpty() ? "all" : String.join(",", config.processes()));
      out.printf("ports       %s%n", config.ports().isEmpty() ? "all" : config.ports().stream().map(Object::toString).collect(Collectors.joining(",")));
      out.printf("capture     %d bytes%n", config.captureBytes());
      out.printf("abortive    %s%n", config.abortiveToGraceful() ? "performed gracefully (policy on)" : "left abortive");
      out.flush();
      return 0;
    }
  }
}
