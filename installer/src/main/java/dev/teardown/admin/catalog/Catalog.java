package dev.teardown.admin.catalog;

import dev.teardown.admin.catalog.CatalogEntry.CatalogKind;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A Winsock catalog as read: transport entries of both catalogs, in order, and name spaces. Entries
 * are found by id in constant time, so that checking a catalog is linear in its size.
 */
public final class Catalog {
  private final List<CatalogEntry> entries;
  private final List<NameSpaceEntry> nameSpaces;
  private final Map<CatalogKind, List<CatalogEntry>> byKind = new EnumMap<>(CatalogKind.class);
  private final Map<CatalogKind, Map<Integer, CatalogEntry>> byId = new EnumMap<>(CatalogKind.class);

  public Catalog(List<CatalogEntry> entries, List<NameSpaceEntry> nameSpaces) {
    this.entries = List.copyOf(entries);
    this.nameSpaces = List.copyOf(nameSpaces);
    for (CatalogKind kind : CatalogKind.values()) {
      byKind.put(kind, this.entries.stream().filter(e -> e.catalog() == kind).toList());
      Map<Integer, CatalogEntry> ids = new HashMap<>();
      for (CatalogEntry entry : byKind.get(kind)) {
        ids.putIfAbsent(entry.id(), entry);  // the first, as catalog order has it
      }
      byId.put(kind, ids);
    }
  }

  /** Every transport entry, in catalog order (the native catalog's, then the 32-bit one's). */
  public List<CatalogEntry> entries() {
    return entries;
  }

  public List<NameSpaceEntry> nameSpaces() {
    return nameSpaces;
  }

  /** The entries of one catalog, in catalog order. */
  public List<CatalogEntry> entries(CatalogKind catalog) {
    return byKind.get(catalog);
  }

  /** The entry with this id in this catalog. */
  public Optional<CatalogEntry> entry(CatalogKind catalog, int id) {
    return Optional.ofNullable(byId.get(catalog).get(id));
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Catalog that && entries.equals(that.entries) && nameSpaces.equals(that.nameSpaces);
  }

  @Override
  public int hashCode() {
    return Objects.hash(entries, nameSpaces);
  }

  @Override
  public String toString() {
    return "Catalog[entries=" + entries + ", nameSpaces=" + nameSpaces + "]";
  }
}
