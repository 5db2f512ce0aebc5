package dev.teardown.admin;

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
    System.exit(run(args));
  }

  /** Runs the command line; returns the exit code (0 ok, 1 failure, 2 usage). */
  public static int run(String... args) {
    return new CommandLine(new TeardownCommand())
        .setExecutionExceptionHandler(new ErrorHandler())
        .execute(args);
  }
}
