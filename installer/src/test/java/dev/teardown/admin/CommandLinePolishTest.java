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

  /**
   * `teardown --help` lists each command by its description's first line: that line is one whole
   * sentence, and every line of every description (commands and options) ends where a sentence
   * or a list's item does, never cut mid-sentence by a line break.
   */
  @Test
  void everySummaryIsAWholeSentenceAndNoDescriptionIsCutMidSentence() {
    List<String> cut = new ArrayList<>();
    checkDescriptions(TeardownCommand.commandLine(), "teardown", cut);
    assertTrue(cut.isEmpty(), String.join("\n", cut));
    String help = CommandLineRun.of("--help").out();
    String list = help.substring(help.indexOf("Commands:"));
    for (String summary : list.split("\n  (?=[a-z])")) {
      String joined = summary.strip().replaceAll("\\s+", " ");
      if (!joined.startsWith("Commands:")) {
        assertTrue(joined.endsWith("."), "a command's summary ends its sentence: " + joined);
      }
    }
  }

  private static void checkDescriptions(CommandLine command, String path, List<String> cut) {
    CommandLine.Model.CommandSpec spec = command.getCommandSpec();
    String[] description = spec.usageMessage().description();
    if (description.length > 0
        && (!description[0].strip().matches("(?s).*[.]") || description[0].matches("(?s).*[.;] [A-Z].*"))) {
      cut.add(path + ": the summary is not one whole sentence: " + description[0]);
    }
    for (String line : description) {
      if (!line.strip().matches("(?s).*[.:)]")) {
        cut.add(path + ": a description line ends mid-sentence: " + line);
      }
    }
    for (CommandLine.Model.OptionSpec option : spec.options()) {
      for (String line : option.description()) {
        if (!line.strip().matches("(?s).*[.:)]")) {
          cut.add(path + " " + option.longestName() + ": a line ends mid-sentence: " + line);
        }
      }
    }
    for (Map.Entry<String, CommandLine> sub : command.getSubcommands().entrySet()) {
      if (!sub.getValue().getCommandSpec().helpCommand()) {
        checkDescriptions(sub.getValue(), path + " " + sub.getKey(), cut);
      }
    }
  }

  /** Bad input: one line naming what was wrong and where the command's options are told. */
  @Test
  void badInputIsOneLineNamingWhatWasWrongAndPointingToHelp() {
    Map<List<String>, String> cases = Map.of(
        List.of("why", "--limit", "x"),
        "teardown why: Invalid value for option '--limit': 'x' is not an int; see `teardown why --help`",
        List.of("frobnicate"), "teardown: 'frobnicate' is not a command; see `teardown --help`",
        List.of("statu"), "teardown: 'statu' is not a command (did you mean status?); see `teardown --help`",
        List.of("why", "--lim", "3"), "teardown why: '--lim' is not an option (did you mean --limit?); see `teardown why --help`",
        List.of("status", "extra"), "teardown status: 'extra' is not expected here; see `teardown status --help`",
        List.of("watch", "--duration", "3x"),
        "teardown watch: Invalid value for option '--duration': '3x' is not a duration: give one such as 500ms,"
            + " 30s, 15m, 24h or 7d, or ISO-8601 such as PT30S; see `teardown watch --help`");
    cases.forEach((args, expected) -> {
      CommandLineRun run = CommandLineRun.of(args.toArray(String[]::new));
      assertEquals(2, run.exit(), args.toString());
      assertEquals(expected, run.err().strip(), args.toString());
      assertTrue(run.out().isEmpty(), "no usage printed: " + run.out());
    });
  }

  /** The version is set once, in the parent POM; the build writes it with the commit it came from. */
  @Test
  void versionIsTheProjectsWithTheCommitItWasBuiltFrom() throws Exception {
    String pom = java.nio.file.Files.readString(Path.of("..", "pom.xml"));
    java.util.regex.Matcher declared = java.util.regex.Pattern
        .compile("<artifactId>teardown-parent</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
    assertTrue(declared.find(), "the parent POM declares the version");
    for (List<String> args : List.of(List.of("--version"), List.of("status", "--version"))) {
      String printed = CommandLineRun.of(args.toArray(String[]::new)).out().strip();
      assertTrue(printed.matches("teardown " + java.util.regex.Pattern.quote(declared.group(1))
          + " \\(commit ([0-9a-f]{12}(-dirty)?|[0-9A-Za-z._-]+-g[0-9a-f]{12}(-dirty)?|unknown)\\)"), printed);
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
