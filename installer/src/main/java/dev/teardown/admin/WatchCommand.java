package dev.teardown.admin;

import dev.teardown.api.Configuration;
import dev.teardown.api.Counters;
import dev.teardown.api.EventKind;
import dev.teardown.api.EventReader;
import dev.teardown.api.PortRange;
import dev.teardown.api.TeardownChannel;
import dev.teardown.api.TeardownEvent;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code teardown watch}: teardown events as they happen. */
@Command(
    name = "watch",
    description = {
      "Show teardown events as they happen, one per line, until Ctrl-C.",
      "Filters here only select what is shown; the recording itself is set with `config`."
    })
final class WatchCommand implements Callable<Integer> {
  @Mixin ChannelOption channel;

  @Option(names = "--json", description = "One JSON object per line instead of a table.")
  boolean json;

  @Option(names = "--kind", split = ",", paramLabel = "KIND", description = "Only these kinds: ${COMPLETION-CANDIDATES}.")
  Set<EventKind> kinds = EnumSet.noneOf(EventKind.class);

  @Option(names = "--process", split = ",", paramLabel = "NAME", description = "Only processes whose name starts so, in any case: python3 is python3.11 too.")
  List<String> processes = List.of();

  @Option(names = "--port", split = ",", paramLabel = "PORT[-LAST]", description = "Only connections with a local or remote port in these ranges.")
  List<String> ports = List.of();

  @Option(names = "--from-oldest", description = "Start with the oldest event the channel still holds.")
  boolean fromOldest;

  @Option(names = "--count", paramLabel = "N", description = "Stop after N events.")
  long count = Long.MAX_VALUE;

  @Option(names = "--duration", paramLabel = "DURATION", description = "Stop after this long: 30s, 15m, 24h, 7d, or ISO-8601 such as PT30S.")
  Duration duration;

  @Spec CommandSpec spec;

  private final CountDownLatch stopped = new CountDownLatch(1);
  private final CountDownLatch finished = new CountDownLatch(1);

  // Ctrl-C: stop reading, and hold the JVM until the summary is printed.
  private void stopFromSignal() {
    stopped.countDown();
    try {
      finished.await(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public Integer call() throws InterruptedException {
    if (count < 1) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--count must be at least 1, not " + count);
    }
    // The same selection producers make, over what is shown: empty options select everything.
    Configuration filter = Configuration.builder()
        .kinds(kinds.isEmpty() ? EnumSet.allOf(EventKind.class) : kinds)
        .processes(processes)
        .ports(ports.stream().map(PortRange::parse).toList())
        .build();
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    long deadline = duration == null ? Long.MAX_VALUE : System.nanoTime() + duration.toNanos();
    Thread hook = new Thread(this::stopFromSignal, "teardown-watch-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      return watch(out, err, filter, deadline);
    } finally {
      finished.countDown();  // what there was to say is said: a Ctrl-C's hook may end the JVM
      removeHook(hook);
    }
  }

  private int watch(PrintWriter out, PrintWriter err, Configuration filter, long deadline)
      throws InterruptedException {
    TeardownChannel waitedFor = openOnceThere(err, deadline);
    if (waitedFor == null) {
      if (stopped.getCount() == 0) {
        return 0;  // Ctrl-C while waiting
      }
      err.println("teardown: no channel appeared in " + Durations.describe(duration) + "; " + channel.whereLooked());
      err.flush();
      return 1;
    }
    try (TeardownChannel opened = waitedFor;
        EventReader reader =
            opened.reader(fromOldest ? TeardownChannel.ReadFrom.OLDEST : TeardownChannel.ReadFrom.NEWEST)) {
      if (!json) {
        out.println(EventFormat.HEADER);
        out.flush();
      }
      long shown = 0;
      long lost = 0;
      while (shown < count && stopped.getCount() > 0 && System.nanoTime() < deadline) {
        EventReader.Batch batch = reader.read();
        if (batch.lost() > 0) {
          lost = lost + batch.lost() < 0 ? Long.MAX_VALUE : lost + batch.lost();
          err.printf("teardown: %d events went by unread (%d in all)%n", batch.lost(), lost);
          err.flush();
        }
        for (TeardownEvent event : batch.events()) {
          if (shown >= count || !selected(event, filter)) {
            continue;
          }
          out.println(json ? EventFormat.json(event) : EventFormat.row(event));
          shown++;
        }
        out.flush();
        if (batch.isEmpty()) {
          stopped.await(20, TimeUnit.MILLISECONDS);
        }
      }
      Counters counters = opened.counters();
      err.printf(
          "teardown: %d shown, %d lost by this watch; channel: %d produced, %d dropped by producers%n",
          shown, lost, counters.produced(), counters.dropped());
      err.flush();
      return 0;
    }
  }

  /**
   * The channel; if there is none yet, says once which path it waits for and opens it when it
   * appears. Null when stopped (Ctrl-C) or out of time first.
   */
  private TeardownChannel openOnceThere(PrintWriter err, long deadline) throws InterruptedException {
    boolean said = false;
    while (true) {
      try {
        return channel.open();
      } catch (ChannelOption.Missing missing) {
        if (!said) {
          err.println("teardown: waiting until a channel appears (" + missing.getMessage() + ")");
          err.flush();
          said = true;
        }
      }
      long left = deadline - System.nanoTime();
      if (left <= 0 || stopped.await(Math.min(TimeUnit.NANOSECONDS.toMillis(left) + 1, 250), TimeUnit.MILLISECONDS)) {
        return null;
      }
    }
  }

  private static void removeHook(Thread hook) {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // Ctrl-C: the JVM is already on its way out, the summary is printed.
    }
  }

  private static boolean selected(TeardownEvent event, Configuration filter) {
    int local = event.local() == null ? 0 : event.local().getPort();
    int remote = event.remote() == null ? 0 : event.remote().getPort();
    return filter.records(event.kind(), event.processName(), local, remote);
  }
}
