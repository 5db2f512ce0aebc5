package dev.teardown.admin;

import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code teardown} admin command. */
@Command(
    name = "teardown",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "Watch and shape how network connections end.",
    subcommands = {
      DemoCommand.class,
      WatchCommand.class,
      RecordCommand.class,
      WhyCommand.class,
      ReportCommand.class,
      HistoryCommand.class,
      ConfigCommand.class,
      RunCommand.class,
      StatusCommand.class,
      InitCommand.class,
      CatalogCommand.class,
      InstallCommands.Install.class,
      InstallCommands.Uninstall.class,
      InstallCommands.Repair.class,
      ProgramCommands.Exclude.class,
      ProgramCommands.Include.class,
      CommandLine.HelpCommand.class
    })
public final class TeardownCommand {

  public static void main(String[] args) {
    NativeFiles.useInstalledLibraries();
    System.exit(run(args));
  }

  /** Runs the command line; returns the exit code (0 ok, 1 failure, 2 usage). */
  public static int run(String... args) {
    return commandLine().execute(args);
  }

  /**
   * The command line as the tool runs it: failures as one clear line, enum values in any case
   * (`--kind close`), durations as people write them (`30s`, `15m`, `24h`, `7d`) or in ISO-8601,
   * and `--help` and `--version` on every subcommand.
   */
  static CommandLine commandLine() {
    CommandLine root = new CommandLine(new TeardownCommand())
        .setExecutionExceptionHandler(new ErrorHandler())
        .setParameterExceptionHandler(TeardownCommand::badInput)
        .setCaseInsensitiveEnumValuesAllowed(true);
    root.registerConverter(java.time.Duration.class, Durations::parse);
    withHelp(root, root.getCommandSpec().versionProvider());
    return root;
  }

  /**
   * Bad input: one line naming what was wrong, with the command's name and where its options are
   * told (not the whole usage), and exit code 2.
   */
  private static int badInput(CommandLine.ParameterException e, String[] args) {
    CommandLine command = e.getCommandLine();
    String name = command.getCommandSpec().qualifiedName();
    String message = String.valueOf(e.getMessage()).strip().replaceAll("\\s*\\R\\s*", "; ");
    if (e instanceof CommandLine.UnmatchedArgumentException unmatched && !unmatched.getUnmatched().isEmpty()) {
      String first = unmatched.getUnmatched().get(0);
      boolean verb = !command.getSubcommands().isEmpty() && !first.startsWith("-");
      message = "'" + first + "' is not " + (verb ? "a command" : first.startsWith("-") ? "an option" : "expected here");
      // A suggestion only where it is likely the one meant: it begins as the word typed does.
      List<String> likely = unmatched.getSuggestions().stream()
          .filter(s -> first.length() >= 3 && s.regionMatches(true, 0, first, 0, 3)).toList();
      if (!likely.isEmpty()) {
        message += " (did you mean " + String.join(" or ", likely) + "?)";
      }
    }
    StringBuilder line = new StringBuilder(name).append(": ").append(message);
    line.append("; see `").append(name).append(" --help`");
    command.getErr().println(Shown.text(line.toString()));
    command.getErr().flush();
    return command.getCommandSpec().exitCodeOnInvalidInput();
  }

  private static void withHelp(CommandLine command, CommandLine.IVersionProvider version) {
    for (CommandLine sub : command.getSubcommands().values()) {
      CommandLine.Model.CommandSpec spec = sub.getCommandSpec();
      if (!spec.helpCommand() && spec.findOption("--help") == null) {
        spec.mixinStandardHelpOptions(true);
        spec.versionProvider(version);
      }
      withHelp(sub, version);
    }
  }
}
