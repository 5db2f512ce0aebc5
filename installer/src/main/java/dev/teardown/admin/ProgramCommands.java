package dev.teardown.admin;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code teardown exclude | include PROGRAM}: which LSPs load into a program (Windows). */
final class ProgramCommands {
  private ProgramCommands() {}

  /** What a verb asks of {@link ProgramCategories} for a program's executable. */
  @FunctionalInterface
  interface Action {
    ProgramCategories.Outcome run(ProgramCategories programs, String executable) throws IOException;
  }

  /** The two verbs: the program checked, the machine detected, one {@link ProgramCategories} call. */
  abstract static class ProgramVerb implements Callable<Integer> {
    private final String verb;
    private final Action action;

    ProgramVerb(String verb, Action action) {
      this.verb = verb;
      this.action = action;
    }

    @Parameters(paramLabel = "PROGRAM", description = "The program's executable, for example"
        + " C:\\Windows\\System32\\wsl.exe (Windows knows a program by the file it starts from).")
    String program;

    @Option(names = "--json", description = "One JSON object at the end, for scripts.")
    boolean json;

    @Spec CommandSpec spec;

    String verb() {
      return verb;
    }

    @Override
    public Integer call() throws IOException {
      PrintWriter err = spec.commandLine().getErr();
      Optional<ProgramCategories> programs = WindowsMachine.programs(verb(), true, err);
      if (programs.isEmpty()) {
        return WindowsMachine.CANNOT_RUN_HERE;
      }
      Optional<String> executable = executable(err);
      if (executable.isEmpty()) {
        return WindowsMachine.CANNOT_RUN_HERE;
      }
      Report report = new Report(spec.commandLine().getOut(), err, json);
      ProgramCategories.Outcome outcome = action.run(programs.get(), executable.get());
      if (outcome.exit() == Installation.DONE) {
        report.note(outcome.message());
      } else {
        report.error("teardown " + verb() + ": " + outcome.message());
      }
      return report.finish(verb(), outcome.exit());
    }

    // The program's file as Windows names it (its full path, in the case it has on disk).
    private Optional<String> executable(PrintWriter err) {
      try {
        Path file = Path.of(program).toAbsolutePath();
        if (!Files.isRegularFile(file)) {
          err.println("teardown " + verb() + ": " + file + " is not a file. Give the program's"
              + " executable, for example C:\\Windows\\System32\\wsl.exe.");
          err.flush();
          return Optional.empty();
        }
        return Optional.of(file.toRealPath().toString());
      } catch (InvalidPathException | IOException e) {
        err.println("teardown " + verb() + ": \"" + program + "\" is not a path to a program ("
            + e.getMessage() + ").");
        err.flush();
        return Optional.empty();
      }
    }
  }

  @Command(
      name = "exclude",
      description = {
        "Keep a program free of Teardown from its next start; needs an elevated administrator.",
        "The program is categorised LSP_SYSTEM, as Windows does its system processes, which also"
            + " keeps out every LSP not categorised LSP_SYSTEM alone. Windows only ever adds"
            + " categories to a program, so this is refused where what the program already permits"
            + " would still let Teardown in."
      })
  static final class Exclude extends ProgramVerb {
    Exclude() {
      super("exclude", ProgramCategories::exclude);
    }
  }

  @Command(
      name = "include",
      description = {
        "Let Teardown load into a program again by adding its LSP categories to the program's.",
        "Windows never takes categories away: a program excluded with `teardown exclude` admits"
            + " Teardown again only if Teardown is installed with --services, and says so otherwise."
            + " Needs an elevated administrator."
      })
  static final class Include extends ProgramVerb {
    Include() {
      super("include", ProgramCategories::include);
    }
  }
}
