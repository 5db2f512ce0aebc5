package dev.teardown.admin;

import dev.teardown.admin.catalog.Catalog;
import dev.teardown.admin.catalog.CatalogCalls;
import dev.teardown.admin.catalog.CatalogChecker;
import dev.teardown.admin.catalog.CatalogEntry;
import dev.teardown.admin.catalog.CatalogEntry.CatalogKind;
import dev.teardown.admin.catalog.CatalogEntry.EntryKind;
import dev.teardown.admin.catalog.CatalogPlanner;
import dev.teardown.admin.catalog.CatalogProblem;
import dev.teardown.admin.catalog.CatalogStep;
import dev.teardown.admin.catalog.CatalogTransaction;
import dev.teardown.admin.catalog.LspMode;
import dev.teardown.admin.catalog.NetshCatalogWriter;
import dev.teardown.admin.catalog.TeardownProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * What {@code teardown install}, {@code uninstall} and {@code repair} do, on any catalog calls and
 * any system root, so that the whole sequence is tested with a ws2_32 stand-in;
 * {@link WindowsMachine} supplies the real ones. Each change is planned, the catalog backed up to a
 * file {@code catalog check} can read, carried out, read back and verified, and undone on failure.
 */
final class Installation {
  /** Where ws2_32 loads the DLL from: System32, which 32-bit processes see as SysWOW64. */
  static final String PROVIDER_PATH = "%SystemRoot%\\system32\\" + TeardownProvider.DLL;

  static final int DONE = 0;
  static final int FAILED = 1;
  // A change that failed and could not be undone either (reported as FAILED).
  private static final int NOT_UNDONE = 3;

  /** The machine a change is made on. */
  record Machine(CatalogCalls calls, boolean has32BitCatalog, Path systemRoot, Path backupDir) {
    Path nativeDll() {
      return systemRoot.resolve("system32").resolve(TeardownProvider.DLL);
    }

    /** Where the 32-bit DLL goes: SysWOW64 on 64-bit Windows, else System32. */
    Path dll32() {
      return has32BitCatalog ? systemRoot.resolve("SysWOW64").resolve(TeardownProvider.DLL) : nativeDll();
    }
  }

  private final Machine machine;

  Installation(Machine machine) {
    this.machine = machine;
  }

  /** Both catalogs as they are now (the 32-bit one empty where there is none). */
  Catalog read() {
    List<CatalogEntry> entries = new ArrayList<>(machine.calls().enumerate(CatalogKind.NATIVE));
    if (machine.has32BitCatalog()) {
      entries.addAll(machine.calls().enumerate(CatalogKind.WOW32));
    }
    return new Catalog(entries, List.of());
  }

  int install(Path dll64, Path dll32, int categories, LspMode mode, Report report) {
    Catalog before = read();
    Optional<LspMode> installed = CatalogPlanner.installedMode(before);
    if (installed.isPresent() && installed.get() != mode) {
      report.error("teardown install: Teardown is installed in " + installed.get().cliName() + " mode. To"
          + " change to " + mode.cliName() + " mode, run `teardown uninstall`, then `teardown install --mode "
          + mode.cliName() + "`. Nothing was changed.");
      return FAILED;
    }
    List<CatalogStep> steps = CatalogPlanner.install(before,
        new CatalogPlanner.Paths(PROVIDER_PATH, PROVIDER_PATH), categories, mode);
    if (steps.isEmpty()) {
      report.note("Nothing to do: Teardown is already installed (teardown status shows where).");
      return DONE;
    }
    List<Path> placed = new ArrayList<>();
    try {
      if (machine.has32BitCatalog()) {
        place(dll64, machine.nativeDll(), placed);
        place(dll32, machine.dll32(), placed);
      } else {
        place(dll32, machine.nativeDll(), placed);
      }
    } catch (IOException e) {
      report.error("teardown install: could not put " + TeardownProvider.DLL + " in place (" + e.getMessage()
          + "); the catalog was not changed.");
      removeQuietly(placed);
      return FAILED;
    }
    int exit = change("install", before, steps, report);
    if (exit == DONE) {
      report.note("Installed in " + mode.cliName() + " mode. Programs that start Winsock from now on load"
          + " Teardown; running ones do not.");
    } else if (exit == FAILED) {
      removeQuietly(placed);  // undone: nothing points at them (if not undone, entries may)
    }
    return exit == NOT_UNDONE ? FAILED : exit;
  }

  int uninstall(Report report) {
    Catalog before = read();
    List<CatalogStep> steps = CatalogPlanner.uninstall(before);
    if (steps.isEmpty()) {
      report.note("Nothing to do: Teardown is not installed.");
      return DONE;
    }
    int exit = change("uninstall", before, steps, report);
    exit = exit == NOT_UNDONE ? FAILED : exit;
    if (exit == DONE) {
      report.note("Uninstalled; other providers' chains that ran through Teardown were relinked.");
      for (Path dll : List.of(machine.nativeDll(), machine.dll32())) {
        try {
          Files.deleteIfExists(dll);
        } catch (IOException e) {
          report.note(dll + " is still loaded by running programs: delete it once they have exited.");
        }
      }
    }
    return exit;
  }

  int repair(Report report) {
    Catalog before = read();
    List<CatalogStep> steps = CatalogPlanner.repair(before);
    if (steps.isEmpty()) {
      report.note("Nothing to repair: Teardown's entries are sound.");
      return DONE;
    }
    int exit = change("repair", before, steps, report);
    return exit == NOT_UNDONE ? FAILED : exit;
  }

  /**
   * Backs up, applies, verifies. On failure the catalog is put back (FAILED), or could not be
   * (NOT_UNDONE).
   */
  private int change(String verb, Catalog before, List<CatalogStep> steps, Report report) {
    Path backup;
    try {
      backup = backup(before);
    } catch (UncheckedIOException e) {
      report.error("teardown " + verb + ": could not write the catalog's backup (" + e.getCause().getMessage()
          + "); the catalog was not changed.");
      return FAILED;
    }
    report.backup(backup);
    try {
      CatalogTransaction.run(machine.calls(), steps);
    } catch (CatalogTransaction.RolledBack failure) {
      report.error("teardown " + verb + " failed and was undone: " + failure.getCause().getMessage()
          + ". The catalog is as it was.");
      return FAILED;
    } catch (RuntimeException restoreFailed) {
      report.error("teardown " + verb + " failed, and putting the catalog back failed too ("
          + restoreFailed.getMessage() + "). What it was is in " + backup + ": compare with `teardown catalog check "
          + backup + "`, and run `teardown repair`.");
      return NOT_UNDONE;
    }
    report.changes(steps.size());
    return DONE;
  }

  private Path backup(Catalog catalog) {
    try {
      Files.createDirectories(machine.backupDir());
      String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS"));
      Path file = machine.backupDir().resolve("catalog-" + stamp + ".txt");
      Files.writeString(file, NetshCatalogWriter.write(catalog));
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Copies the DLL unless the same bytes are already there; a new file is added to {@code placed}. */
  private static void place(Path source, Path target, List<Path> placed) throws IOException {
    boolean existed = Files.exists(target);
    if (existed && Arrays.equals(Files.readAllBytes(source), Files.readAllBytes(target))) {
      return;
    }
    Files.createDirectories(target.getParent());
    Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
    if (!existed) {
      placed.add(target);
    }
  }

  /** Files this install put there, taken away again after a failure. */
  private static void removeQuietly(List<Path> placed) {
    for (Path file : placed) {
      try {
        Files.deleteIfExists(file);
      } catch (IOException e) {
        // left where it is: nothing in the catalog points at it
      }
    }
  }

  /**
   * Teardown's place in one catalog: its hidden entry, the mode that entry says, the positions of
   * the chains it is in (its own, and other vendors' it was inserted into), and the other layered
   * providers there.
   */
  record CatalogState(CatalogKind catalog, int hiddenEntry, LspMode mode, List<Integer> chainPositions,
      int entries, List<String> otherLayered) {
    boolean installed() {
      return hiddenEntry > 0;
    }

    String name() {
      return catalog == CatalogKind.NATIVE ? "native" : "32-bit";
    }
  }

  /** Each catalog there is: where Teardown is, which other layered providers are there. */
  static List<CatalogState> states(Catalog catalog) {
    List<CatalogState> states = new ArrayList<>();
    for (CatalogKind kind : CatalogKind.values()) {
      List<CatalogEntry> entries = catalog.entries(kind);
      if (entries.isEmpty()) {
        continue;
      }
      Optional<CatalogEntry> ours = entries.stream()
          .filter(e -> e.kind() == EntryKind.LAYERED && TeardownProvider.isOurs(e)).findFirst();
      int hidden = ours.map(CatalogEntry::id).orElse(0);
      List<Integer> positions = new ArrayList<>();
      for (int i = 0; hidden > 0 && i < entries.size(); i++) {
        if (entries.get(i).kind() == EntryKind.CHAIN && entries.get(i).chain().contains(hidden)) {
          positions.add(i + 1);
        }
      }
      List<String> others = entries.stream()
          .filter(e -> e.kind() == EntryKind.LAYERED && !TeardownProvider.isOurs(e))
          .map(e -> e.description() + " (" + e.providerPath() + ")").toList();
      states.add(new CatalogState(kind, hidden, ours.map(LspMode::of).orElse(null), positions, entries.size(),
          others));
    }
    return states;
  }

  /** What is wrong with the catalog, provider DLLs missing on disk included. */
  List<CatalogProblem> problems(Catalog catalog) {
    return CatalogChecker.check(catalog, path -> Files.exists(expand(path)));
  }

  /** A provider path as ws2_32 would load it: %SystemRoot% and other variables expanded. */
  Path expand(String providerPath) {
    StringBuilder out = new StringBuilder();
    int at = 0;
    while (at < providerPath.length()) {
      int start = providerPath.indexOf('%', at);
      int end = start < 0 ? -1 : providerPath.indexOf('%', start + 1);
      if (end < 0) {
        out.append(providerPath, at, providerPath.length());
        break;
      }
      out.append(providerPath, at, start);
      String name = providerPath.substring(start + 1, end);
      String value = name.equalsIgnoreCase("SystemRoot") || name.equalsIgnoreCase("windir")
          ? machine.systemRoot().toString() : System.getenv(name);
      out.append(value != null ? value : providerPath.substring(start, end + 1));
      at = end + 1;
    }
    return Path.of(out.toString().replace('\\', java.io.File.separatorChar));
  }
}
