package dev.teardown.admin.catalog;

import dev.teardown.admin.catalog.CatalogEntry.CatalogKind;
import dev.teardown.admin.catalog.CatalogEntry.EntryKind;
import dev.teardown.admin.catalog.CatalogStep.Ref;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Carries out a plan safely: backs the catalog up, applies the steps, reads the catalog back and
 * checks it is what the plan said; on any failure restores the backup and reports the failure.
 *
 * <p>A restored catalog has every entry, link, flag and the order it had. Entries the plan had
 * removed are re-created, and the catalog gives them new ids (no WSC* call can choose one); the
 * chains that linked to them are relinked to the new ids.
 */
public final class CatalogTransaction {
  private CatalogTransaction() {}

  /** Thrown when a plan could not be carried out; the catalog is as it was before. */
  public static final class RolledBack extends RuntimeException {
    private static final long serialVersionUID = 1L;

    RolledBack(String message, Throwable cause) {
      super(message, cause);
    }
  }

  public static void run(CatalogCalls calls, List<CatalogStep> steps) {
    Map<CatalogKind, List<CatalogEntry>> backup = new HashMap<>();
    for (CatalogKind kind : CatalogKind.values()) {
      backup.put(kind, calls.enumerate(kind));
    }
    try {
      applyAll(calls, steps);
      verify(calls, backup, steps);
    } catch (RuntimeException failure) {
      restore(calls, backup);
      throw new RolledBack("the catalog change failed and was undone: " + failure.getMessage(), failure);
    }
  }

  /** Applies steps in order, with no backup: for tests and for the restore itself. */
  static void applyAll(CatalogCalls calls, List<CatalogStep> steps) {
    for (CatalogStep step : steps) {
      apply(calls, step);
    }
  }

  private static void apply(CatalogCalls calls, CatalogStep step) {
    CatalogKind kind = step.catalog();
    if (step instanceof CatalogStep.Install install) {
      calls.install(kind, install.template(), resolve(calls, kind, install.chain()));
    } else if (step instanceof CatalogStep.Deinstall deinstall) {
      calls.deinstall(kind, deinstall.entryId(), deinstall.guid());
    } else if (step instanceof CatalogStep.Relink relink) {
      calls.update(kind, relink.entryId(), resolve(calls, kind, relink.chain()));
    } else if (step instanceof CatalogStep.WriteOrder order) {
      calls.writeOrder(kind, resolve(calls, kind, order.order()));
    } else if (step instanceof CatalogStep.SetCategories categories) {
      calls.setCategories(kind, categories.guid(), categories.categories());
    }
  }

  private static List<Integer> resolve(CatalogCalls calls, CatalogKind kind, List<Ref> refs) {
    List<CatalogEntry> entries = calls.enumerate(kind);
    List<Integer> ids = new ArrayList<>();
    for (Ref ref : refs) {
      if (ref.guid() == null) {
        ids.add(ref.id());
      } else {
        ids.add(entries.stream().filter(e -> e.providerId().equals(ref.guid())).findFirst()
            .orElseThrow(() -> new IllegalStateException("no entry " + ref + " to link to")).id());
      }
    }
    return ids;
  }

  // What the plan should have produced, worked out on a copy, against what the catalog holds.
  private static void verify(CatalogCalls calls, Map<CatalogKind, List<CatalogEntry>> backup, List<CatalogStep> steps) {
    List<CatalogEntry> before = new ArrayList<>();
    backup.values().forEach(before::addAll);
    InMemoryCatalog expected = new InMemoryCatalog(new Catalog(before, List.of()));
    applyAll(expected, steps);
    for (CatalogKind kind : CatalogKind.values()) {
      if (!canonical(expected.enumerate(kind)).equals(canonical(calls.enumerate(kind)))) {
        throw new IllegalStateException("the " + kind + " catalog read back differs from the plan");
      }
    }
  }

  /** Entries with their links named by GUID and description, ids left out: what must match. */
  static List<String> canonical(List<CatalogEntry> entries) {
    Map<Integer, CatalogEntry> byId = new HashMap<>();
    entries.forEach(e -> byId.put(e.id(), e));
    List<String> out = new ArrayList<>();
    for (CatalogEntry e : entries) {
      List<String> links = e.chain().stream()
          .map(id -> byId.containsKey(id) ? byId.get(id).providerId() + "/" + byId.get(id).description() : "missing " + id)
          .toList();
      out.add(e.kind() + " " + e.providerId() + " " + e.description() + " " + e.providerPath() + " "
          + e.serviceFlags() + " " + e.addressFamily() + "/" + e.socketType() + "/" + e.protocol() + " " + links);
    }
    return out;
  }

  private static void restore(CatalogCalls calls, Map<CatalogKind, List<CatalogEntry>> backup) {
    for (CatalogKind kind : CatalogKind.CHANGE_ORDER) {
      List<CatalogEntry> original = backup.get(kind);
      // 1. What the plan added goes, newest first, so that no chain outlives what it links to.
      List<CatalogEntry> added = calls.enumerate(kind).stream()
          .filter(e -> original.stream().noneMatch(o -> same(o, e)))
          .sorted(Comparator.comparingInt(CatalogEntry::id).reversed()).toList();
      for (CatalogEntry entry : added) {
        calls.deinstall(kind, entry.id(), entry.providerId());
      }
      // 2. What the plan removed comes back: layered entries first, then chains, old ids mapped.
      Map<Integer, Integer> renumbered = new HashMap<>();
      List<CatalogEntry> current = calls.enumerate(kind);
      List<CatalogEntry> removed = original.stream()
          .filter(o -> current.stream().noneMatch(e -> same(o, e)))
          .sorted(Comparator.comparingInt((CatalogEntry e) -> e.kind() == EntryKind.LAYERED ? 0 : 1)
              .thenComparingInt(CatalogEntry::id)).toList();
      for (CatalogEntry entry : removed) {
        // A catalog holds one layered entry or chain per GUID: a second copy (Teardown installed
        // twice) cannot come back, and what linked to it links to the first.
        Optional<CatalogEntry> sameGuid = entry.kind() == EntryKind.BASE ? Optional.empty()
            : calls.enumerate(kind).stream().filter(e -> e.providerId().equals(entry.providerId())).findFirst();
        if (sameGuid.isPresent()) {
          renumbered.put(entry.id(), sameGuid.get().id());
          continue;
        }
        List<Integer> links = entry.kind() == EntryKind.BASE ? List.of() : map(entry.chain(), renumbered);
        renumbered.put(entry.id(), calls.install(kind, entry, links));
      }
      // 3. Chains whose links changed (relinked by the plan, or to a re-created entry) go back.
      for (CatalogEntry entry : original) {
        if (entry.kind() != EntryKind.CHAIN || renumbered.containsKey(entry.id())) {
          continue;
        }
        List<Integer> links = map(entry.chain(), renumbered);
        CatalogEntry now = calls.enumerate(kind).stream().filter(e -> same(entry, e)).findFirst().orElseThrow();
        if (!now.chain().equals(links)) {
          calls.update(kind, entry.id(), links);
        }
      }
      // 4. The order it had (a copy that could not come back keeps its first place).
      calls.writeOrder(kind, map(original.stream().map(CatalogEntry::id).toList(), renumbered).stream()
          .distinct().toList());
    }
  }

  private static boolean same(CatalogEntry a, CatalogEntry b) {
    return a.id() == b.id() && a.providerId().equals(b.providerId());
  }

  private static List<Integer> map(List<Integer> ids, Map<Integer, Integer> renumbered) {
    return ids.stream().map(id -> renumbered.getOrDefault(id, id)).toList();
  }
}
