package dev.teardown.admin.catalog;

import dev.teardown.admin.catalog.CatalogEntry.CatalogKind;
import dev.teardown.admin.catalog.CatalogEntry.EntryKind;
import dev.teardown.admin.catalog.CatalogProblem.Kind;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Predicate;

/** Finds what is broken in a catalog, each problem with its fix. */
public final class CatalogChecker {
  private static final String RESET_WARNING =
      " (`netsh winsock reset` also works but removes every layered provider, not just this one)";

  private CatalogChecker() {}

  /** Checks a catalog read from a dump: everything but the provider files. */
  public static List<CatalogProblem> check(Catalog catalog) {
    return check(catalog, null);
  }

  /**
   * Checks a catalog; with {@code fileExists} (a live check on the machine itself), also that
   * every provider's DLL is on disk.
   */
  public static List<CatalogProblem> check(Catalog catalog, Predicate<String> fileExists) {
    List<CatalogProblem> problems = new ArrayList<>();
    for (CatalogKind kind : CatalogKind.values()) {
      List<CatalogEntry> entries = catalog.entries(kind);
      chains(catalog, kind, entries, problems);
      duplicates(kind, entries, problems);
      teardownTwice(kind, entries, problems);
      if (fileExists != null) {
        paths(kind, entries, fileExists, problems);
      }
    }
    return problems;
  }

  private static void chains(Catalog catalog, CatalogKind kind, List<CatalogEntry> entries, List<CatalogProblem> problems) {
    for (CatalogEntry chain : entries) {
      if (chain.kind() != EntryKind.CHAIN) {
        continue;
      }
      Optional<CatalogEntry> layered = catalog.entry(kind, chain.layeredEntryId());
      if (layered.isEmpty() || layered.get().kind() != EntryKind.LAYERED) {
        problems.add(new CatalogProblem(Kind.ORPHANED_CHAIN, kind, chain.id(),
            "chain " + chain.id() + " (" + chain.description() + ") names layered entry "
                + chain.layeredEntryId() + ", which is not in the catalog",
            removal(chain)));
      }
      for (int lower : chain.chain().subList(1, chain.chain().size())) {
        if (catalog.entry(kind, lower).isEmpty()) {
          problems.add(new CatalogProblem(Kind.MISSING_LOWER_ENTRY, kind, chain.id(),
              "chain " + chain.id() + " (" + chain.description() + ") passes calls to entry "
                  + lower + ", which is not in the catalog: its sockets fail to open",
              removal(chain)));
        }
      }
      ifsAboveNonIfs(catalog, kind, chain, problems);
    }
  }

  // An IFS layer hands programs the handles of the provider below it, so everything beneath it
  // must have real handles: no non-IFS provider may be layered beneath an IFS one (Microsoft's LSP
  // installer sample, lspadd.cpp). A non-IFS layer above an IFS one is the usual, sound case.
  private static void ifsAboveNonIfs(Catalog catalog, CatalogKind kind, CatalogEntry chain, List<CatalogProblem> problems) {
    ifsAboveNonIfs(catalog, kind, chain).ifPresent(pair -> problems.add(new CatalogProblem(
        Kind.IFS_ABOVE_NON_IFS, kind, chain.id(),
        "chain " + chain.id() + " layers IFS " + pair.get(0).description() + " above non-IFS "
            + pair.get(1).description() + ": programs get handles " + pair.get(1).description()
            + " never made, and its sockets fail",
        "reinstall " + pair.get(0).description() + " so that it sits below " + pair.get(1).description()
            + " (`teardown install` does so for Teardown), or remove it")));
  }

  /** The first IFS layer of {@code chain} with a non-IFS provider beneath it, and that provider. */
  static Optional<List<CatalogEntry>> ifsAboveNonIfs(Catalog catalog, CatalogKind kind, CatalogEntry chain) {
    List<Integer> links = chain.chain();  // top first, the base last
    for (int upper = 0; upper < links.size() - 1; upper++) {
      Optional<CatalogEntry> top = catalog.entry(kind, links.get(upper));
      if (top.isEmpty() || !top.get().ifs()) {
        continue;
      }
      for (int lower = upper + 1; lower < links.size(); lower++) {
        Optional<CatalogEntry> below = catalog.entry(kind, links.get(lower));
        if (below.isPresent() && !below.get().ifs()) {
          return Optional.of(List.of(top.get(), below.get()));
        }
      }
    }
    return Optional.empty();
  }

  private static void duplicates(CatalogKind kind, List<CatalogEntry> entries, List<CatalogProblem> problems) {
    // Base providers share GUIDs by design (every MSAFD Tcpip entry has one); hidden layered
    // entries and chains must each have their own.
    Map<UUID, CatalogEntry> seen = new HashMap<>();
    for (CatalogEntry entry : entries) {
      if (entry.kind() == EntryKind.BASE) {
        continue;
      }
      CatalogEntry first = seen.putIfAbsent(entry.providerId(), entry);
      if (first != null && !(TeardownProvider.isOurs(entry) && TeardownProvider.isOurs(first))) {
        problems.add(new CatalogProblem(Kind.DUPLICATE_GUID, kind, entry.id(),
            "entries " + first.id() + " and " + entry.id() + " share provider GUID {"
                + entry.providerId().toString().toUpperCase() + "}",
            "reinstall the provider of entry " + entry.id() + " (" + entry.description() + ")"));
      }
    }
  }

  private static void teardownTwice(CatalogKind kind, List<CatalogEntry> entries, List<CatalogProblem> problems) {
    List<CatalogEntry> ours = entries.stream()
        .filter(e -> e.kind() == EntryKind.LAYERED && TeardownProvider.isOurs(e)).toList();
    if (ours.size() > 1) {
      problems.add(new CatalogProblem(Kind.TEARDOWN_INSTALLED_TWICE, kind, ours.get(1).id(),
          "Teardown is installed " + ours.size() + " times (layered entries "
              + ours.stream().map(e -> Integer.toString(e.id())).toList() + ")",
          "run `teardown repair`: it keeps one installation and removes the rest with their chains"));
    }
  }

  private static void paths(CatalogKind kind, List<CatalogEntry> entries, Predicate<String> fileExists, List<CatalogProblem> problems) {
    for (CatalogEntry entry : entries) {
      if (!fileExists.test(entry.providerPath())) {
        problems.add(new CatalogProblem(Kind.PROVIDER_PATH_MISSING, kind, entry.id(),
            "entry " + entry.id() + " (" + entry.description() + ") loads " + entry.providerPath()
                + ", which is not on disk: every socket of its protocol fails",
            "reinstall the provider, or remove its entries" + RESET_WARNING));
      }
    }
  }

  private static String removal(CatalogEntry chain) {
    return TeardownProvider.isOurs(chain)
        ? "run `teardown repair`: it removes Teardown's orphaned entries"
        : "remove chain entry " + chain.id() + " (WSCDeinstallProvider on its GUID {"
            + chain.providerId().toString().toUpperCase() + "}), or reinstall its vendor's software"
            + RESET_WARNING;
  }
}
