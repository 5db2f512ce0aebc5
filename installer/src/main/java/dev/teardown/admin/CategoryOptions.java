package dev.teardown.admin;

import dev.teardown.admin.catalog.CatalogPlanner;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * {@code --services} and {@code --categories HEX}: the LSP categories Teardown is installed with,
 * shared by {@code install} and {@code catalog plan install}. By default Teardown stays out of
 * services and system processes (no LSP_SYSTEM): Windows loads an LSP into a process categorised
 * LSP_SYSTEM (lsass, winlogon, many svchost processes) only if the LSP has that category too.
 */
final class CategoryOptions {
  static final int LSP_INSPECTOR = 0x00000001;
  static final int LSP_SYSTEM = 0x80000000;

  @Option(
      names = "--services",
      description = "Load into services and system processes too (adds LSP_SYSTEM).")
  boolean services;

  @Option(
      names = "--categories",
      paramLabel = "HEX",
      description = "LSP categories, hexadecimal (default 0x00000001: LSP_INSPECTOR).")
  String categories;

  /** The categories asked for, or -1 after saying on {@code err} what was wrong. */
  int resolve(String verb, PrintWriter err) {
    int value = CatalogPlanner.DEFAULT_CATEGORIES;
    if (categories != null) {
      try {
        value = Integer.parseUnsignedInt(categories.replaceFirst("^0[xX]", ""), 16);
      } catch (NumberFormatException e) {
        err.println("teardown " + verb + ": --categories takes a hexadecimal number such as"
            + " 0x00000001, not \"" + categories + "\".");
        err.flush();
        return -1;
      }
      if (value == 0) {
        err.println("teardown " + verb + ": --categories 0 would leave Teardown uncategorised,"
            + " which Windows keeps out of services anyway; give at least one category.");
        err.flush();
        return -1;
      }
    }
    return services ? value | LSP_SYSTEM : value;
  }

  /** "0x00000001 (LSP_INSPECTOR): not loaded into services and system processes". */
  static String describe(int categories) {
    List<String> names = new ArrayList<>();
    if ((categories & LSP_SYSTEM) != 0) names.add("LSP_SYSTEM");
    if ((categories & LSP_INSPECTOR) != 0) names.add("LSP_INSPECTOR");
    int others = categories & ~(LSP_SYSTEM | LSP_INSPECTOR);
    if (others != 0) names.add(String.format("0x%08X", others));
    return String.format("0x%08X (%s): %s", categories, String.join(" | ", names),
        (categories & LSP_SYSTEM) != 0
            ? "loaded into services and system processes too"
            : "not loaded into services and system processes (--services to opt in)");
  }
}
