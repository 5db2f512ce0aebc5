package dev.teardown.admin;

import dev.teardown.api.Configuration;
import dev.teardown.api.Counters;
import dev.teardown.api.EventKind;
import dev.teardown.api.TeardownChannel;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code teardown status}: where the channel is, what it holds, how it is configured. */
@Command(name = "status", description = "Show the channel, its counters and the live configuration.")
final class StatusCommand implements Callable<Integer> {
  @Mixin ChannelOption channel;

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    try (TeardownChannel opened = channel.open()) {
      PrintWriter out = spec.commandLine().getOut();
      Counters counters = opened.counters();
      Configuration config = opened.configuration();
      out.printf("channel     %s (%d events held)%n", opened.path(), opened.capacity());
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
