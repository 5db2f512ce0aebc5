package dev.teardown.admin;

import dev.teardown.admin.catalog.Catalog;
import dev.teardown.admin.catalog.CatalogChecker;
import dev.teardown.admin.catalog.CatalogEntry;
import dev.teardown.admin.catalog.CatalogEntry.CatalogKind;
import dev.teardown.admin.catalog.CatalogEntry.EntryKind;
import dev.teardown.admin.catalog.CatalogPlanner;
import dev.teardown.admin.catalog.CatalogProblem;
import dev.teardown.admin.catalog.CatalogStep;
import dev.teardown.admin.catalog.LspMode;
import dev.teardown.admin.catalog.NetshCatalogParser;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code teardown catalog ...}: the Winsock catalog, read from a dump or (on Windows) live. */
@Command(
    name = "catalog",
    description = "Read and diagnose a Winsock catalog.",
    subcommands = {CatalogCommand.Check.class, CatalogCommand.Plan.class})
final class CatalogCommand {

  /** Exit codes of {@code catalog check}. */
  static final int HEALTHY = 0;
  static final int PROBLEMS = 1;
  static final int UNUSABLE = 2;

  @Command(
      name = "check",
      description = {
        "Diagnose a Winsock catalog saved with `netsh winsock show catalog`.",
        "The dump may be English or localized, with banners or cut off. Lists providers, layered"
            + " entries and chains, then each problem with its fix. Exit 0 healthy, 1 problems,"
            + " 2 unusable input."
      })
  static final class Check implements Callable<Integer> {
    @Parameters(paramLabel = "DUMP", description = "A file holding the output of `netsh winsock show catalog`.")
    Path dump;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      String text;
      try {
        text = read(dump);
      } catch (IOException e) {
        err.println("teardown: cannot read " + dump + ": " + describe(e));
        err.flush();
        return UNUSABLE;
      }
      NetshCatalogParser.Result result = NetshCatalogParser.parse(text);
      if (!result.usable()) {
        err.println("teardown: " + dump + " holds no complete catalog entry: is it the output of "
            + "`netsh winsock show catalog`?");
        result.incomplete().forEach(line -> err.println("  " + Shown.bounded(line, 160)));
        err.flush();
        return UNUSABLE;
      }
      Catalog catalog = result.catalog();
      for (CatalogKind kind : CatalogKind.values()) {
        List<CatalogEntry> entries = catalog.entries(kind);
        if (!entries.isEmpty()) {
          print(out, kind, entries);
        }
      }
      out.printf("Name space providers: %d%n", catalog.nameSpaces().size());
      if (!result.incomplete().isEmpty()) {
        out.printf("%nNot read (incomplete in the dump):%n");
        result.incomplete().forEach(line -> out.println("  " + Shown.bounded(line, 160)));
      }
      List<CatalogProblem> problems = CatalogChecker.check(catalog);
      out.println();
      if (problems.isEmpty()) {
        out.println("Healthy: no problem found.");
      } else {
        out.printf("%d problem%s:%n", problems.size(), problems.size() == 1 ? "" : "s");
        for (CatalogProblem problem : problems) {
          // A problem's text quotes the dump's entries (names, paths): shown as text.
          out.printf("  [%s] %s catalog: %s%n      fix: %s%n", problem.kind(), name(problem.catalog()),
              Shown.text(problem.message()), Shown.text(problem.fix()));
        }
      }
      out.flush();
      return problems.isEmpty() ? HEALTHY : PROBLEMS;
    }

    static String read(Path file) throws IOException {
      byte[] bytes = Files.readAllBytes(file);
      // netsh redirected by PowerShell writes UTF-16 with a byte order mark.
      if (bytes.length >= 2 && (bytes[0] & 0xFF) == 0xFF && (bytes[1] & 0xFF) == 0xFE) {
        return new String(bytes, 2, bytes.length - 2, StandardCharsets.UTF_16LE);
      }
      return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
    }

    static String describe(IOException e) {
      if (e instanceof NoSuchFileException) {
        return "no such file";
      }
      if (e instanceof MalformedInputException) {
        return "not UTF-8 or UTF-16 text (save the output with `netsh winsock show catalog > dump.txt`)";
      }
      return e.getMessage();
    }

    private static void print(PrintWriter out, CatalogKind kind, List<CatalogEntry> entries) {
      out.printf("%s catalog: %d entries%n", name(kind), entries.size());
      for (EntryKind entryKind : EntryKind.values()) {
        List<CatalogEntry> some = entries.stream().filter(e -> e.kind() == entryKind).toList();
        if (some.isEmpty()) {
          continue;
        }
        out.printf("  %s:%n", switch (entryKind) {
          case BASE -> "Base providers";
          case LAYERED -> "Layered providers";
          case CHAIN -> "Chains";
        });
        for (CatalogEntry entry : some) {
          String detail = switch (entryKind) {
            case BASE -> "family " + entry.addressFamily() + ", type " + entry.socketType() + ", protocol " + entry.protocol();
            case LAYERED -> (entry.ifs() ? "IFS" : "non-IFS") + ", " + entry.providerPath();
            case CHAIN -> entry.chain().stream().map(String::valueOf).collect(Collectors.joining(" -> "));
          };
          out.printf("    %5d  %-52s %s%n", entry.id(), Shown.bounded(entry.description(), 52), Shown.text(detail));
        }
      }
    }

    static String name(CatalogKind kind) {
      return kind == CatalogKind.NATIVE ? "Native (64-bit)" : "32-bit";
    }
  }

  @Command(
      name = "plan",
      description = {
        "Print the catalog changes install, uninstall or repair would make, and change nothing.",
        "The changes are those for the machine a `netsh winsock show catalog` dump came from."
      })
  static final class Plan implements Callable<Integer> {
    enum Action { install, uninstall, repair }

    @Parameters(index = "0", paramLabel = "ACTION", description = "${COMPLETION-CANDIDATES}")
    Action action;

    @Parameters(index = "1", paramLabel = "DUMP", description = "A file holding the output of `netsh winsock show catalog`.")
    Path dump;

    @Option(names = "--dll64", paramLabel = "PATH", description = "Teardown's 64-bit DLL (default: ${DEFAULT-VALUE}).")
    String dll64 = "%ProgramFiles%\\Teardown\\x64\\teardown_lsp.dll";

    @Option(names = "--dll32", paramLabel = "PATH", description = "Teardown's 32-bit DLL (default: ${DEFAULT-VALUE}).")
    String dll32 = "%ProgramFiles%\\Teardown\\x86\\teardown_lsp.dll";

    @Mixin CategoryOptions categories;

    @Option(names = "--mode", paramLabel = "MODE", description = "install: compatible (the default) or full,"
        + " as `teardown install --mode`.")
    LspMode mode = LspMode.COMPATIBLE;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      NetshCatalogParser.Result result;
      try {
        result = NetshCatalogParser.parse(Check.read(dump));
      } catch (IOException e) {
        err.println("teardown: cannot read " + dump + ": " + Check.describe(e));
        err.flush();
        return UNUSABLE;
      }
      if (!result.usable() || !result.incomplete().isEmpty()) {
        err.println("teardown: " + dump + " is not a complete catalog; a plan needs every entry"
            + (result.incomplete().isEmpty() ? "" : ": " + result.incomplete().get(0)));
        err.flush();
        return UNUSABLE;
      }
      Catalog catalog = result.catalog();
      int installCategories = categories.resolve("catalog plan", err);
      if (installCategories == -1) {
        return UNUSABLE;
      }
      if (action == Action.install) {
        out.println("mode " + mode.cliName());
        out.println("categories " + CategoryOptions.describe(installCategories));
      }
      List<CatalogStep> steps = switch (action) {
        case install -> CatalogPlanner.install(
            catalog, new CatalogPlanner.Paths(dll64, dll32), installCategories, mode);
        case uninstall -> CatalogPlanner.uninstall(catalog);
        case repair -> CatalogPlanner.repair(catalog);
      };
      if (steps.isEmpty()) {
        out.println("Nothing to do: " + switch (action) {
          case install -> "Teardown is already installed.";
          case uninstall -> "Teardown is not installed.";
          case repair -> "Teardown's entries are sound.";
        });
      }
      for (int i = 0; i < steps.size(); i++) {
        out.printf("%2d. %s%n", i + 1, describe(steps.get(i)));
      }
      out.flush();
      return 0;
    }

    // The calls as WindowsCatalog makes them: the 32-bit catalog through the *32 functions, and
    // an install there through WSCInstallProvider in a 32-bit process (teardown_catalog32.exe).
    private static String describe(CatalogStep step) {
      boolean wow = step.catalog() == CatalogKind.WOW32;
      String where = "[" + Check.name(step.catalog()) + "] ";
      if (step instanceof CatalogStep.Install install) {
        return where + (wow ? "WSCInstallProvider (teardown_catalog32.exe, a 32-bit process)" : "WSCInstallProvider")
            + " \"" + install.template().description() + "\" {"
            + install.template().providerId().toString().toUpperCase() + "}"
            + (install.chain().isEmpty() ? " (hidden layered entry)" : " chain " + install.chain());
      }
      String suffix = wow ? "32" : "";
      if (step instanceof CatalogStep.Deinstall deinstall) {
        return where + "WSCDeinstallProvider" + suffix + " entry " + deinstall.entryId() + " {"
            + deinstall.guid().toString().toUpperCase() + "}";
      }
      if (step instanceof CatalogStep.Relink relink) {
        return where + "WSCUpdateProvider" + suffix + " entry " + relink.entryId() + " chain -> " + relink.chain();
      }
      if (step instanceof CatalogStep.WriteOrder order) {
        return where + "WSCWriteProviderOrder" + suffix + " " + order.order();
      }
      CatalogStep.SetCategories categories = (CatalogStep.SetCategories) step;
      return where + String.format("WSCSetProviderInfo%s(LspCategories 0x%08X)", suffix, categories.categories());
    }
  }
}
