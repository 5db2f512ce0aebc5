package dev.teardown.admin.catalog;

import dev.teardown.admin.catalog.CatalogEntry.CatalogKind;
import dev.teardown.admin.catalog.CatalogEntry.EntryKind;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The catalog calls over memory, behaving as ws2_32's do: a new entry gets the next free id of
 * its catalog, a layered entry or chain cannot be installed under a GUID the catalog already
 * holds (WSANO_RECOVERY), a removal takes every entry of that GUID and leaves the order of the
 * rest alone, an order write must list every entry once. Tests use it to apply plans, and to fail
 * at a chosen call.
 */
public final class InMemoryCatalog implements CatalogCalls {
  private final Map<CatalogKind, List<CatalogEntry>> catalogs = new HashMap<>();
  private final List<NameSpaceEntry> nameSpaces;
  private final Map<UUID, Integer> categories = new HashMap<>();
  private int failAtCall = -1;
  private int calls;

  public InMemoryCatalog(Catalog catalog) {
    for (CatalogKind kind : CatalogKind.values()) {
      catalogs.put(kind, new ArrayList<>(catalog.entries(kind)));
    }
    this.nameSpaces = catalog.nameSpaces();
  }

  /** Makes the n-th changing call from now on (0 = the next) fail, as a real call can. */
  public void failAtChangingCall(int n) {
    failAtCall = calls + n;
  }

  public Catalog snapshot() {
    List<CatalogEntry> all = new ArrayList<>();
    for (CatalogKind kind : CatalogKind.values()) {
      all.addAll(catalogs.get(kind));
    }
    return new Catalog(all, nameSpaces);
  }

  public Integer categories(UUID guid) {
    return categories.get(guid);
  }

  /** Applies a plan's steps directly, without a transaction (see {@link CatalogTransaction}). */
  public void apply(List<CatalogStep> steps) {
    CatalogTransaction.applyAll(this, steps);
  }

  @Override
  public List<CatalogEntry> enumerate(CatalogKind catalog) {
    return List.copyOf(catalogs.get(catalog));
  }

  @Override
  public int install(CatalogKind catalog, CatalogEntry template, List<Integer> chain) {
    changing("WSCInstallProvider");
    List<CatalogEntry> entries = catalogs.get(catalog);
    if (template.kind() != EntryKind.BASE && entries.stream().anyMatch(e -> e.providerId().equals(template.providerId()))) {
      throw new CatalogException("WSCInstallProvider", 11003);  // WSANO_RECOVERY: already installed
    }
    int id = entries.stream().mapToInt(CatalogEntry::id).max().orElse(1000) + 1;
    for (int link : chain) {
      find(catalog, link);
    }
    List<Integer> links = new ArrayList<>(chain);
    if (template.kind() == EntryKind.BASE) {
      links.add(id);
    }
    entries.add(with(template, id, links));
    return id;
  }

  @Override
  public void deinstall(CatalogKind catalog, int id, UUID guid) {
    changing("WSCDeinstallProvider");
    // By GUID, as WSCDeinstallProvider: every entry of the provider goes.
    if (!catalogs.get(catalog).removeIf(e -> e.providerId().equals(guid))) {
      throw new CatalogException("WSCDeinstallProvider", 10022);  // WSAEINVAL
    }
  }

  @Override
  public void update(CatalogKind catalog, int id, List<Integer> chain) {
    changing("WSCUpdateProvider");
    List<CatalogEntry> entries = catalogs.get(catalog);
    CatalogEntry old = find(catalog, id);
    entries.set(entries.indexOf(old), with(old, id, chain));
  }

  @Override
  public void writeOrder(CatalogKind catalog, List<Integer> ids) {
    changing("WSCWriteProviderOrder");
    List<CatalogEntry> entries = catalogs.get(catalog);
    if (ids.size() != entries.size() || ids.stream().distinct().count() != entries.size()) {
      throw new CatalogException("WSCWriteProviderOrder", 10022);
    }
    List<CatalogEntry> ordered = new ArrayList<>();
    for (int id : ids) {
      ordered.add(find(catalog, id));
    }
    entries.clear();
    entries.addAll(ordered);
  }

  @Override
  public void setCategories(CatalogKind catalog, UUID guid, int value) {
    changing("WSCSetProviderInfo");
    categories.put(guid, value);
  }

  private void changing(String call) {
    if (calls++ == failAtCall) {
      throw new CatalogException(call, 10055);  // WSAENOBUFS: the kind of failure real calls report
    }
  }

  private CatalogEntry find(CatalogKind catalog, int id) {
    return catalogs.get(catalog).stream().filter(e -> e.id() == id).findFirst()
        .orElseThrow(() -> new CatalogException("lookup of entry " + id, 10022));
  }

  static CatalogEntry with(CatalogEntry entry, int id, List<Integer> chain) {
    return new CatalogEntry(entry.catalog(), entry.kind(), entry.description(), entry.providerId(),
        entry.providerPath(), id, entry.version(), entry.addressFamily(), entry.maxAddressLength(),
        entry.minAddressLength(), entry.socketType(), entry.protocol(), entry.serviceFlags(), chain);
  }
}
