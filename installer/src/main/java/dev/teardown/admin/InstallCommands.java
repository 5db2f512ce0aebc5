package dev.teardown.admin;

import dev.teardown.admin.catalog.LspMode;
import dev.teardown.admin.catalog.TeardownProvider;
import dev.teardown.admin.service.RecorderService;
import dev.teardown.admin.service.ServiceControl;
import dev.teardown.admin.service.WindowsServiceControl;
import dev.teardown.api.TeardownChannel;
import dev.teardown.api.TeardownException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code teardown install | uninstall | repair}: Teardown in the live Winsock catalog (Windows). */
final class InstallCommands {
  private InstallCommands() {}

  @Command(
      name = "install",
      description = {
        "Install Teardown into the Winsock catalog; needs an elevated administrator.",
        "Both catalogs on 64-bit Windows: the DLL into System32 (and SysWOW64), its hidden entry,"
            + " and Teardown into every path to TCP, each path keeping its priority. Compatible mode"
            + " (the default) hands programs the base provider's own handles and sits beneath other"
            + " vendors' non-IFS LSPs; full mode (--mode full) sees every completion and can emulate"
            + " disconnect data. Keeps every LSP out of programs known to fail with one (WSL)."
            + " Refuses where code integrity would block the DLL. Backs the catalog up, verifies,"
            + " undoes on failure. By default it stays out of services and system processes"
            + " (--services opts in)."
      })
  static final class Install implements Callable<Integer> {
    @Option(names = "--mode", paramLabel = "MODE", description = {
        "compatible (the default): programs keep the base provider's handles, and their requests"
            + " complete without Teardown in between; safe for .NET, Go, Node, Python, Ruby, Perl.",
        "full: Teardown's own handles; it sees every completion and can emulate disconnect data,"
            + " but .NET's async sockets stop completing under it (see docs/windows.md)."})
    LspMode mode = LspMode.COMPATIBLE;

    @Option(names = "--no-default-exclusions", description = "Leave WSL (wsl.exe, wslservice.exe), which"
        + " fails when any LSP loads into it, as it is.")
    boolean noDefaultExclusions;

    @Option(names = "--force", description = "Install even where Smart App Control or an App Control"
        + " (WDAC) policy would block an unsigned DLL: only when you know the policy allows it.")
    boolean force;

    @Option(names = "--dll64", paramLabel = "FILE", description = "The 64-bit teardown_lsp.dll (default: the one shipped).")
    Path dll64;

    @Option(names = "--dll32", paramLabel = "FILE", description = "The 32-bit teardown_lsp.dll (default: the one shipped).")
    Path dll32;

    @Mixin CategoryOptions categories;

    @Option(
        names = "--recorder",
        description = "Also install `teardown record` as the Windows service " + RecorderService.NAME
            + ": it starts at boot and records into %%ProgramData%%\\Teardown\\history.db.")
    boolean recorder;

    @Option(names = "--json", description = "One JSON object at the end, for scripts.")
    boolean json;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws IOException {
      PrintWriter err = spec.commandLine().getErr();
      int parsedCategories = categories.resolve("install", err);
      if (parsedCategories == -1) {
        return WindowsMachine.CANNOT_RUN_HERE;
      }
      for (Path dll : new Path[] {dll64, dll32}) {
        if (dll != null && !Files.isRegularFile(dll)) {
          err.println("teardown install: " + dll + " is not a file.");
          return WindowsMachine.CANNOT_RUN_HERE;
        }
      }
      Optional<Installation.Machine> machine = WindowsMachine.detect("install", true, err);
      if (machine.isEmpty()) {
        return WindowsMachine.CANNOT_RUN_HERE;
      }
      Path work = Files.createTempDirectory("teardown-install");
      Path native64 = dll64 != null ? dll64 : shipped("win32-x86-64", work.resolve("64"));
      Path native32 = dll32 != null ? dll32 : shipped("win32-x86", work.resolve("32"));
      Report report = new Report(spec.commandLine().getOut(), err, json);
      Optional<String> refused = CodeIntegrity.refusal(new WindowsCodeIntegrity(machine.get().systemRoot()),
          List.of(native64, native32), force);
      if (refused.isPresent()) {
        report.error("teardown install: " + refused.get());
        return report.finish("install", 1);
      }
      // The channel first, with its permissions: the LSP records from the first socket after the
      // catalog changes, and never makes the channel itself.
      try (TeardownChannel channel = TeardownChannel.createDefault()) {
        report.note("channel ready at " + channel.path() + ": administrators and SYSTEM have full"
            + " control, each user writes only their own ring");
      } catch (TeardownException e) {
        report.error("cannot make the channel: " + e.getMessage());
        return report.finish("install", 1);
      }
      int exit = new Installation(machine.get())
          .install(native64, native32, parsedCategories, mode, report);
      if (exit == 0 && !noDefaultExclusions) {
        Optional<ProgramCategories> programs = WindowsMachine.programs("install", true, err);
        if (programs.isPresent()) {
          Path programFiles = Path.of(Optional.ofNullable(System.getenv("ProgramFiles")).orElse("C:\\Program Files"));
          List<String> excluded = DefaultExclusions.apply(programs.get(),
              DefaultExclusions.programs(machine.get().systemRoot(), programFiles));
          excluded.forEach(report::note);
          if (excluded.isEmpty()) {
            report.note("No program known to fail with an LSP is here (WSL is not installed): nothing excluded.");
          }
        }
      }
      if (exit == 0 && recorder) {
        exit = installRecorder(new WindowsServiceControl(), RecordCommand.java(), RecordCommand.jar(),
            HistoryDatabase.defaultFor(null), report);
      }
      return report.finish("install", exit);
    }

    /** The recorder service, after the catalog: 0, or 1 with the reason in the report. */
    static int installRecorder(ServiceControl control, Path java, Path jar, Path database, Report report) {
      try {
        RecorderService.install(control, RecorderService.commandLine(java, jar, database), report::note);
        return 0;
      } catch (ServiceControl.ServiceException e) {
        report.error("the recorder service: " + e.getMessage() + " (Teardown itself is installed)");
        return 1;
      }
    }

    private static Path shipped(String prefix, Path dir) throws IOException {
      Path packaged = NativeFiles.inWindowsPackage(
          (prefix.equals("win32-x86-64") ? "x64/" : "x86/") + TeardownProvider.DLL);
      if (packaged != null) {
        return packaged;  // the package's own file, as an administrator may have checked it
      }
      try (InputStream in = Install.class.getResourceAsStream("/" + prefix + "/" + TeardownProvider.DLL)) {
        if (in == null) {
          throw new IOException("this build ships no " + prefix + "/" + TeardownProvider.DLL + "; give it with --dll64/--dll32");
        }
        Files.createDirectories(dir);
        Path file = dir.resolve(TeardownProvider.DLL);
        Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        return file;
      }
    }
  }

  /** uninstall and repair: --json only, the same checks, one Installation call. */
  abstract static class Change implements Callable<Integer> {
    @Option(names = "--json", description = "One JSON object at the end, for scripts.")
    boolean json;

    @Spec CommandSpec spec;

    abstract String verb();

    abstract int run(Installation installation, Report report);

    @Override
    public Integer call() {
      PrintWriter err = spec.commandLine().getErr();
      Report report = new Report(spec.commandLine().getOut(), err, json);
      return WindowsMachine.detect(verb(), true, err)
          .map(machine -> report.finish(verb(), run(new Installation(machine), report)))
          .orElse(WindowsMachine.CANNOT_RUN_HERE);
    }
  }

  @Command(
      name = "uninstall",
      description = {
        "Remove Teardown from the Winsock catalog; needs an elevated administrator.",
        "Relinks other providers' chains that ran through it and removes the recorder service if it"
            + " is there. Backs the catalog up, verifies, undoes on failure."
      })
  static final class Uninstall extends Change {
    @Override
    String verb() {
      return "uninstall";
    }

    @Override
    int run(Installation installation, Report report) {
      // The recorder first: stopped, it makes its last commit while the channel is still fed.
      if (removeRecorder(new WindowsServiceControl(), report) != 0) {
        return 1;
      }
      return installation.uninstall(report);
    }

    static int removeRecorder(ServiceControl control, Report report) {
      try {
        RecorderService.uninstall(control, report::note);
        return 0;
      } catch (ServiceControl.ServiceException e) {
        report.error("the recorder service: " + e.getMessage() + "; nothing else was changed");
        return 1;
      }
    }
  }

  @Command(
      name = "repair",
      description = {
        "Repair Teardown's own catalog entries; needs an elevated administrator.",
        "Removes chains whose hidden entry is gone, and reinstalls Teardown when it is there twice."
            + " Other vendors' entries are left alone."
      })
  static final class Repair extends Change {
    @Override
    String verb() {
      return "repair";
    }

    @Override
    int run(Installation installation, Report report) {
      return installation.repair(report);
    }
  }
}
