package dev.teardown.admin.catalog;

import dev.teardown.admin.catalog.CatalogEntry.CatalogKind;
import java.util.List;
import java.util.Optional;

/** A Winsock catalog as read: transport entries of both catalogs, in order, and name spaces. */
public record Catalog(List<CatalogEntry> entries, List<NameSpaceEntry> nameSpaces) {

  public Catalog {
    entries = List.copyOf(entries);
    nameSpaces = List.copyOf(nameSpaces);
  }

  /** The entries of one catalog, in catalog order. */
  public List<CatalogEntry> entries(CatalogKind catalog) {
    return entries.stream().filter(e -> e.catalog() == catalog).toList();
  }

  /** The entry with this id in this catalog. */
  public Optional<CatalogEntry> entry(CatalogKind catalog, int id) {
    return entries.stream().filter(e -> e.catalog() == catalog && e.id() == id).findFirst();
  }
}
