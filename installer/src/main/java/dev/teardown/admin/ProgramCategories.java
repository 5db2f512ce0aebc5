package dev.teardown.admin;

import dev.teardown.admin.catalog.CatalogPlanner;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;

/**
 * {@code teardown exclude} and {@code include}: which LSPs Windows loads into a program, by the
 * program's permitted LSP categories (WSCSetApplicationCategory) and the rules of Microsoft's
 * "Categorizing Layered Service Providers and Applications": an uncategorised program loads every
 * LSP; a categorised one loads an LSP only if the LSP has at least one of its categories, has
 * none it lacks, and, when the program permits LSP_SYSTEM, has LSP_SYSTEM too.
 *
 * <p>Two documented facts shape the verbs. WSCSetApplicationCategory ORs what it is given into
 * what the program had: categories can be added, never taken away. So {@code exclude} categorises
 * a program LSP_SYSTEM, as Windows does its system processes (only an LSP categorised LSP_SYSTEM
 * alone loads into it), and refuses when what the program already permits would still let
 * Teardown in; and {@code include} can only add Teardown's categories, which brings Teardown back
 * only where the result admits it (into a program excluded this way, only a Teardown installed
 * with --services). Each verb says which case it met. The programs Teardown excluded are listed
 * in a file beside the catalog backups, for {@code status}: Winsock lists no categorised programs.
 */
final class ProgramCategories {
  static final int LSP_SYSTEM = CategoryOptions.LSP_SYSTEM;

  /** The calls behind the verbs: ws2_32's on Windows, a stand-in in tests. */
  interface Calls {
    /** WSCGetApplicationCategory: the program's permitted categories, or empty if uncategorised. */
    OptionalInt applicationCategories(String program);

    /** WSCSetApplicationCategory: ORs {@code categories} into the program's. */
    void categorise(String program, int categories);

    /** WSCGetProviderInfo(LspCategories) of Teardown's hidden entry; empty when not installed. */
    OptionalInt teardownCategories();
  }

  /** What a verb found or did, for the report. */
  record Outcome(int exit, String message) {}

  private final Calls calls;
  private final Path record;

  ProgramCategories(Calls calls, Path record) {
    this.calls = calls;
    this.record = record;
  }

  /** Whether Windows loads an LSP of {@code lsp} categories into a program that permits {@code app}. */
  static boolean loads(int lsp, OptionalInt app) {
    if (app.isEmpty()) {
      return true;
    }
    int permitted = app.getAsInt();
    return (lsp & permitted) != 0 && (lsp & ~permitted) == 0
        && ((permitted & LSP_SYSTEM) == 0 || (lsp & LSP_SYSTEM) != 0);
  }

  static String describe(OptionalInt categories) {
    return categories.isEmpty() ? "uncategorised" : CategoryOptions.describe(categories.getAsInt())
        .replaceFirst(":.*", "");
  }

  Outcome exclude(String program) throws IOException {
    int teardown = teardownCategories();
    OptionalInt before = calls.applicationCategories(program);
    OptionalInt after = OptionalInt.of(before.orElse(0) | LSP_SYSTEM);
    if (loads(teardown, after)) {
      return new Outcome(Installation.FAILED, program + " permits " + describe(before)
          + "; Windows only adds categories to a program (WSCSetApplicationCategory ORs them),"
          + " and with LSP_SYSTEM added it would still load Teardown (" + describe(OptionalInt.of(teardown))
          + "). Nothing was changed.");
    }
    if (!loads(teardown, before)) {
      remember(program, true);
      return new Outcome(Installation.DONE, "Nothing to do: " + program + " permits " + describe(before)
          + ", which keeps Teardown out already.");
    }
    calls.categorise(program, LSP_SYSTEM);
    OptionalInt now = calls.applicationCategories(program);
    if (!now.equals(after)) {
      return new Outcome(Installation.FAILED, "WSCSetApplicationCategory succeeded, yet " + program
          + " now permits " + describe(now) + ", not " + describe(after) + ".");
    }
    remember(program, true);
    return new Outcome(Installation.DONE, program + " now permits " + describe(now) + ": from its next"
        + " start Teardown and every LSP not categorised LSP_SYSTEM alone stay out of it, as out of"
        + " system processes. Running instances keep what they loaded.");
  }

  Outcome include(String program) throws IOException {
    int teardown = teardownCategories();
    OptionalInt before = calls.applicationCategories(program);
    if (loads(teardown, before)) {
      remember(program, false);
      return new Outcome(Installation.DONE, "Nothing to do: " + program + " is " + (before.isEmpty()
          ? "uncategorised, and loads every LSP, Teardown included."
          : "categorised " + describe(before) + ", which admits Teardown."));
    }
    OptionalInt after = OptionalInt.of(before.getAsInt() | teardown);
    if (!loads(teardown, after)) {
      return new Outcome(Installation.FAILED, program + " permits " + describe(before)
          + ". Windows only adds categories to a program (WSCSetApplicationCategory ORs them), and a"
          + " program that permits LSP_SYSTEM loads only LSPs that have it: Teardown ("
          + describe(OptionalInt.of(teardown)) + ") can load into it again only if installed with"
          + " --services. Nothing was changed.");
    }
    calls.categorise(program, teardown);
    OptionalInt now = calls.applicationCategories(program);
    if (!loads(teardown, now)) {
      return new Outcome(Installation.FAILED, "WSCSetApplicationCategory succeeded, yet " + program
          + " now permits " + describe(now) + ", which still keeps Teardown out.");
    }
    remember(program, false);
    return new Outcome(Installation.DONE, program + " now permits " + describe(now) + ": Teardown loads"
        + " into it from its next start (and so does any other LSP whose categories it permits).");
  }

  /** The programs Teardown excluded, each with what it permits now. */
  List<String> excluded() throws IOException {
    List<String> lines = new ArrayList<>();
    OptionalInt teardown = calls.teardownCategories();
    for (String program : recorded()) {
      OptionalInt now = calls.applicationCategories(program);
      boolean in = teardown.isPresent() && loads(teardown.getAsInt(), now);
      lines.add(program + " (" + describe(now) + "; Teardown " + (in ? "loads" : "kept out") + ")");
    }
    return lines;
  }

  List<String> recorded() throws IOException {
    if (!Files.isRegularFile(record)) {
      return List.of();
    }
    return Files.readAllLines(record, StandardCharsets.UTF_8).stream().map(String::strip)
        .filter(line -> !line.isEmpty()).toList();
  }

  private int teardownCategories() {
    // Not installed: the categories it will be installed with by default.
    return calls.teardownCategories().orElse(CatalogPlanner.DEFAULT_CATEGORIES);
  }

  /** Adds or removes {@code program} (its case ignored, as Windows ignores it). */
  private void remember(String program, boolean listed) throws IOException {
    List<String> programs = new ArrayList<>(recorded());
    String key = program.toLowerCase(Locale.ROOT);
    boolean present = programs.stream().anyMatch(p -> p.toLowerCase(Locale.ROOT).equals(key));
    if (present == listed) {
      return;
    }
    if (listed) {
      programs.add(program);
    } else {
      programs.removeIf(p -> p.toLowerCase(Locale.ROOT).equals(key));
    }
    Files.createDirectories(record.getParent());
    Path next = record.resolveSibling(record.getFileName() + ".new");
    Files.write(next, programs, StandardCharsets.UTF_8);
    Files.move(next, record, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** Where Teardown's own state about programs lives, under {@code %ProgramData%\Teardown}. */
  static Path recordIn(Path teardownData) {
    return teardownData.resolve("excluded-programs.txt");
  }
}
