package dev.teardown.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.teardown.api.TeardownChannel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The README and docs/ cannot drift from the command: every teardown command line in their code
 * blocks names commands and options that exist, parses as the command parses it where it is a
 * whole command (not a synopsis with [OPTIONAL] parts or PLACEHOLDERS), and the ones that only
 * read or change a channel and a history are run, against a channel and a history of the test's
 * own. The launcher's own verbs (test, bench, package) are checked against the launcher.
 */
class DocumentedCommandsTest {
  private static final Path ROOT = Path.of("..");
  private static final Pattern INVOCATION = Pattern.compile(
      "^(?:\\$ )?(?:sudo )?(?:\\./teardown|teardown|\\.\\\\teardown\\.exe) (.*)$");
  /** Verbs that are run here: they only read, or change a channel of the test's own. */
  private static final Set<String> RUN = Set.of("status", "why", "report", "config", "history", "init");
  private static final Set<String> LAUNCHER_VERBS = Set.of("test", "bench", "package");

  @TempDir Path dir;

  record Documented(Path file, int line, String text) {
    @Override
    public String toString() {
      return ROOT.relativize(file) + ":" + line + ": " + text;
    }
  }

  static List<Documented> documented() throws IOException {
    List<Path> files = new ArrayList<>(List.of(ROOT.resolve("README.md")));
    try (Stream<Path> docs = Files.list(ROOT.resolve("docs"))) {
      docs.filter(path -> path.toString().endsWith(".md")).sorted().forEach(files::add);
    }
    List<Documented> found = new ArrayList<>();
    for (Path file : files) {
      List<String> lines = Files.readAllLines(file);
      boolean inBlock = false;
      for (int i = 0; i < lines.size(); i++) {
        String line = lines.get(i);
        if (line.startsWith("```")) {
          inBlock = !inBlock;
          continue;
        }
        Matcher invocation = INVOCATION.matcher(line.strip());
        if (inBlock && invocation.matches()) {
          found.add(new Documented(file, i + 1, withoutCommentOrRedirect(invocation.group(1))));
        }
      }
    }
    return found;
  }

  private static String withoutCommentOrRedirect(String text) {
    String kept = text.replaceAll("\\s+#.*$", "");
    int redirect = kept.indexOf(" > ");
    return (redirect >= 0 ? kept.substring(0, redirect) : kept).strip();
  }

  @Test
  void theDocsShowTheCommandsThisTestChecks() throws IOException {
    List<Documented> all = documented();
    assertTrue(all.size() >= 20, "the README and docs show commands: " + all);
    assertTrue(all.stream().anyMatch(d -> d.file().endsWith("README.md") && d.text().equals("install")), all.toString());
  }

  @Test
  void everyDocumentedCommandNamesWhatExistsAndParses() throws IOException {
    String launcher = Files.readString(ROOT.resolve("teardown"));
    List<String> wrong = new ArrayList<>();
    for (Documented documented : documented()) {
      List<String> words = words(documented.text());
      if (LAUNCHER_VERBS.contains(words.get(0))) {
        if (!launcher.contains("\n  " + words.get(0) + ")")) {
          wrong.add(documented + ": the launcher has no verb " + words.get(0));
        }
        continue;
      }
      CommandLine command = TeardownCommand.commandLine();
      int at = 0;
      while (at < words.size() && command.getSubcommands().containsKey(words.get(at))) {
        command = command.getSubcommands().get(words.get(at));
        at++;
      }
      if (at == 0 && !words.get(0).startsWith("-")) {
        wrong.add(documented + ": no command " + words.get(0));
        continue;
      }
      for (String word : words) {
        if (word.equals("--")) {
          break;
        }
        String option = word.replaceAll("^\\[+", "").replaceAll("[=\\[\\]].*$", "");
        if (option.startsWith("--") && command.getCommandSpec().findOption(option) == null) {
          wrong.add(documented + ": " + command.getCommandSpec().qualifiedName() + " has no option " + option);
        }
      }
      if (!isSynopsis(documented.text())) {
        try {
          TeardownCommand.commandLine().parseArgs(words.toArray(String[]::new));
        } catch (CommandLine.ParameterException e) {
          wrong.add(documented + ": " + e.getMessage());
        }
      }
    }
    assertEquals(List.of(), wrong);
  }

  @Test
  void theCommandsThatOnlyReadOrChangeAChannelRunAndSucceed() throws Exception {
    Path channel = dir.resolve("channel");
    Path db = dir.resolve("history.db");
    try (TeardownChannel made = TeardownChannel.create(channel)) {
      try (dev.teardown.history.Recorder recorder =
          dev.teardown.history.Recorder.open(made, db, dev.teardown.history.Recorder.Options.DEFAULT)) {
        recorder.stop();
        recorder.run();
      }
    }
    int ran = 0;
    for (Documented documented : documented()) {
      List<String> words = new ArrayList<>(words(documented.text()));
      if (isSynopsis(documented.text()) || !RUN.contains(words.get(0))) {
        continue;
      }
      CommandLine command = TeardownCommand.commandLine();
      for (int i = 0; i < words.size() && command.getSubcommands().containsKey(words.get(i)); i++) {
        command = command.getSubcommands().get(words.get(i));
      }
      if (command.getCommandSpec().findOption("--channel") != null && !words.contains("--channel")) {
        words.addAll(List.of("--channel", channel.toString()));
      }
      if (command.getCommandSpec().findOption("--db") != null && !words.contains("--db")) {
        words.addAll(List.of("--db", db.toString()));
      }
      CommandLineRun run = CommandLineRun.of(words.toArray(String[]::new));
      assertEquals(0, run.exit(), documented + " as " + words + ":\n" + run.err());
      ran++;
    }
    assertTrue(ran >= 5, "the docs' status, why, config and init commands ran: " + ran);
  }

  /** A synopsis shows [OPTIONAL] parts, A|B choices or PLACEHOLDERS rather than values. */
  private static boolean isSynopsis(String text) {
    return text.contains("[") || text.contains("|") || Pattern.compile("(^|\\s)[A-Z]{2,}(\\s|$)").matcher(text).find();
  }

  /** The line's words as a POSIX shell would split them (quotes and backslashes as PowerShell keeps them). */
  private static List<String> words(String text) {
    List<String> words = new ArrayList<>();
    StringBuilder word = new StringBuilder();
    char quote = 0;
    boolean any = false;
    for (char c : text.toCharArray()) {
      if (quote != 0) {
        if (c == quote) {
          quote = 0;
        } else {
          word.append(c);
        }
      } else if (c == '"' || c == '\'') {
        quote = c;
        any = true;
      } else if (Character.isWhitespace(c)) {
        if (any || word.length() > 0) {
          words.add(word.toString());
          word.setLength(0);
          any = false;
        }
      } else {
        word.append(c);
      }
    }
    if (any || word.length() > 0) {
      words.add(word.toString());
    }
    return words;
  }
}
