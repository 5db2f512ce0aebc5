package dev.teardown.admin.catalog;

import dev.teardown.admin.catalog.CatalogEntry.CatalogKind;
import dev.teardown.admin.catalog.CatalogEntry.EntryKind;
import dev.teardown.admin.catalog.CatalogStep.Ref;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * A catalog that applies {@link CatalogStep}s the way ws2_32's WSC* calls do: new entries get the
 * next free id, removals leave the order of the rest alone, an order write lists every entry.
 * Used to test plans, and to check a plan before it touches a real catalog.
 */
public final class InMemoryCatalog {
  private final List<CatalogEntry> entries;
  private final List<NameSpaceEntry> nameSpaces;
  private final java.util.Map<UUID, Integer> categories = new java.util.HashMap<>();

  public InMemoryCatalog(Catalog catalog) {
    this.entries = new ArrayList<>(catalog.entries());
    this.nameSpaces = catalog.nameSpaces();
  }

  public Catalog snapshot() {
    return new Catalog(entries, nameSpaces);
  }

  public Integer categories(UUID guid) {
    return categories.get(guid);
  }

  public void apply(List<CatalogStep> steps) {
    steps.forEach(this::apply);
  }

  public void apply(CatalogStep step) {
    if (step instanceof CatalogStep.Install install) {
      install(install);
    } else if (step instanceof CatalogStep.Deinstall deinstall) {
      if (!entries.removeIf(e -> e.catalog() == deinstall.catalog() && e.id() == deinstall.entryId()
          && e.providerId().equals(deinstall.guid()))) {
        throw new IllegalStateException("no entry " + deinstall.entryId() + " to deinstall");
      }
    } else if (step instanceof CatalogStep.Relink relink) {
      CatalogEntry old = find(relink.catalog(), Ref.of(relink.entryId()));
      entries.set(entries.indexOf(old), with(old, old.id(), relink.chain()));
    } else if (step instanceof CatalogStep.WriteOrder write) {
      writeOrder(write);
    } else if (step instanceof CatalogStep.SetCategories set) {
      categories.put(set.guid(), set.categories());
    }
  }

  private void install(CatalogStep.Install install) {
    CatalogKind kind = install.catalog();
    int id = entries.stream().filter(e -> e.catalog() == kind).mapToInt(CatalogEntry::id).max().orElse(1000) + 1;
    List<Integer> chain = new ArrayList<>();
    for (Ref ref : install.chain()) {
      chain.add(find(kind, ref).id());
    }
    if (install.template().kind() == EntryKind.BASE) {
      chain.add(id);
    }
    entries.add(with(install.template(), id, chain));
  }

  private void writeOrder(CatalogStep.WriteOrder write) {
    List<CatalogEntry> ordered = new ArrayList<>();
    for (Ref ref : write.order()) {
      ordered.add(find(write.catalog(), ref));
    }
    long present = entries.stream().filter(e -> e.catalog() == write.catalog()).count();
    if (ordered.size() != present || ordered.stream().distinct().count() != present) {
      throw new IllegalStateException("an order must list every entry of the catalog once");
    }
    List<CatalogEntry> result = new ArrayList<>();
    int next = 0;
    for (CatalogEntry entry : entries) {
      result.add(entry.catalog() == write.catalog() ? ordered.get(next++) : entry);
    }
    entries.clear();
    entries.addAll(result);
  }

  private CatalogEntry find(CatalogKind kind, Ref ref) {
    return entries.stream()
        .filter(e -> e.catalog() == kind)
        .filter(e -> ref.guid() == null ? e.id() == ref.id() : e.providerId().equals(ref.guid()))
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("no entry " + ref + " in the " + kind + " catalog"));
  }

  private static CatalogEntry with(CatalogEntry entry, int id, List<Integer> chain) {
    return new CatalogEntry(entry.catalog(), entry.kind(), entry.description(), entry.providerId(),
        entry.providerPath(), id, entry.version(), entry.addressFamily(), entry.maxAddressLength(),
        entry.minAddressLength(), entry.socketType(), entry.protocol(), entry.serviceFlags(), chain);
  }
}
