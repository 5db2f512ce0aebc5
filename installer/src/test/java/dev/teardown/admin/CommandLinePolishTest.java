package dev.teardown.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.teardown.api.CloseMode;
import dev.teardown.api.EventKind;
import dev.teardown.api.TeardownChannel;
import dev.teardown.api.TeardownEvent;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** What a new user types first: help on every command, values in any case, plain durations. */
class CommandLinePolishTest {
  @TempDir Path dir;

  @Test
  void everyCommandAndSubcommandPrintsItsOwnHelp() {
    List<List<String>> paths = new ArrayList<>();
    collect(TeardownCommand.commandLine(), new ArrayList<>(), paths);
    assertTrue(paths.size() > 15, paths.toString());
    for (List<String> path : paths) {
      List<String> args = new ArrayList<>(path);
      args.add("--help");
      CommandLineRun run = CommandLineRun.of(args.toArray(String[]::new));
      assertEquals(0, run.exit(), path + ": " + run.err());
      assertTrue(run.out().startsWith("Usage: teardown " + String.join(" ", path)),
          path + ":\n" + run.out());
    }
  }

  private static void collect(CommandLine command, List<String> at, List<List<String>> out) {
    for (Map.Entry<String, CommandLine> sub : command.getSubcommands().entrySet()) {
      if (sub.getValue().getCommandSpec().helpCommand()) {
        continue;
      }
      List<String> path = new ArrayList<>(at);
      path.add(sub.getKey());
      out.add(path);
      collect(sub.getValue(), path, out);
    }
  }

  @Test
  void kindsAreTakenInAnyCaseAndDurationsAsPeopleWriteThem() {
    try (TeardownChannel channel = TeardownChannel.create(dir)) {
      channel.publish(new TeardownEvent(0, 1_780_000_000_000_000_000L, 99, "curl", 1, 6, 1,
          EventKind.CLOSE, 0, null, CloseMode.GRACEFUL, Duration.ZERO, Set.of(), 0, null,
          new InetSocketAddress("127.0.0.1", 50000), new InetSocketAddress("127.0.0.1", 443), null,
          null));
      CommandLineRun run = CommandLineRun.of("watch", "--channel", dir.toString(), "--from-oldest",
          "--kind", "close,Eof", "--count", "1", "--duration", "10s");
      assertEquals(0, run.exit(), run.err());
      assertTrue(run.err().contains("1 shown"), run.err());
    }
    assertEquals(Duration.ofMillis(500), Durations.parse("500ms"));
    assertEquals(Duration.ofMinutes(15), Durations.parse("15m"));
    assertEquals(Duration.ofHours(24), Durations.parse("24H"));
    assertEquals(Duration.ofDays(7), Durations.parse("7d"));
    assertEquals(Duration.ofSeconds(30), Durations.parse("PT30S"));
    assertEquals(Duration.ofSeconds(30), Durations.parse("pt30s"));
  }

  @Test
  void aDurationThatIsNoneIsRefusedNamingIt() {
    CommandLineRun run = CommandLineRun.of("watch", "--channel", dir.toString(), "--duration", "3x");
    assertEquals(2, run.exit());
    assertTrue(run.err().contains("'3x' is not a duration"), run.err());
    assertEquals(2, CommandLineRun.of("watch", "--duration", "-PT5S").exit(), "negative");
  }
}
