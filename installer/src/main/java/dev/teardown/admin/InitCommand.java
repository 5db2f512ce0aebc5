package dev.teardown.admin;

import dev.teardown.api.ConfigurationOwner;
import dev.teardown.api.TeardownChannel;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code teardown init}: makes a channel with the permissions of the security model. Run by an
 * administrator it makes the system channel, which every user's programs record into; run by
 * anyone else, that user's private channel.
 */
@Command(name = "init", description = {
    "Make the channel, or repair its modes and configuration.",
    "Run by an administrator (root), it makes the system channel /dev/shm/teardown, which every"
        + " user's programs record into, each into a ring of their own; run by anyone else, their"
        + " private channel. On Windows `teardown install` makes the system channel."})
final class InitCommand implements Callable<Integer> {
  @Mixin ChannelOption channel;

  @Option(
      names = "--slots",
      paramLabel = "N",
      description = "Events each user's ring holds: a power of two, 64..1048576 (default 16384)."
          + " A ring of 8192 or more is divided into a lane per CPU (up to 4, each of 4096 or more),"
          + " and one thread's events are held up to its lane's share.")
  int slots = 16384;

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    if (slots < 64 || slots > 1 << 20 || Integer.bitCount(slots) != 1) {
      spec.commandLine().getErr().println(
          "teardown init: --slots must be a power of two from 64 to 1048576, not " + slots);
      return 2;
    }
    try (TeardownChannel opened = channel.directory == null
            ? TeardownChannel.createDefault(slots)
            : TeardownChannel.create(channel.directory, slots)) {
      ConfigurationOwner owner = opened.configurationOwner();
      out.printf("channel     %s ready, %d events%n", opened.path(), opened.counters().produced());
      out.printf("config      %s%n", owner.appliesTo());
      out.flush();
      return 0;
    }
  }
}
