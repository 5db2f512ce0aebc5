package dev.teardown.admin.catalog;

import dev.teardown.admin.catalog.CatalogEntry.CatalogKind;
import java.util.List;
import java.util.UUID;

/**
 * One change to a Winsock catalog, as the WSC* calls make it. Entries being installed have no id
 * until the catalog gives them one, so steps name them by GUID ({@link Ref}).
 */
public sealed interface CatalogStep {

  CatalogKind catalog();

  /** An entry by catalog id (existing) or by provider GUID (installed by an earlier step). */
  record Ref(int id, UUID guid) {
    public static Ref of(int id) {
      return new Ref(id, null);
    }

    public static Ref of(UUID guid) {
      return new Ref(0, guid);
    }

    @Override
    public String toString() {
      return guid == null ? Integer.toString(id) : "{" + guid.toString().toUpperCase() + "}";
    }
  }

  /**
   * WSCInstallProvider of one entry. For a chain, {@code chain} is the layered entry's Ref
   * followed by the entries below it; for a layered entry it is empty.
   */
  record Install(CatalogKind catalog, CatalogEntry template, List<Ref> chain) implements CatalogStep {
    public Install {
      chain = List.copyOf(chain);
    }
  }

  /** WSCDeinstallProvider of the entry with this GUID. */
  record Deinstall(CatalogKind catalog, UUID guid, int entryId) implements CatalogStep {}

  /**
   * WSCUpdateProvider: another vendor's existing chain, relinked: Teardown inserted beneath its
   * non-IFS layers (a compatible install), or cut out of it (uninstall).
   */
  record Relink(CatalogKind catalog, int entryId, UUID guid, List<Ref> chain) implements CatalogStep {
    public Relink {
      chain = List.copyOf(chain);
    }
  }

  /** WSCWriteProviderOrder: the whole order of the catalog's transport entries. */
  record WriteOrder(CatalogKind catalog, List<Ref> order) implements CatalogStep {
    public WriteOrder {
      order = List.copyOf(order);
    }
  }

  /** WSCSetProviderInfo(ProviderInfoLspCategories) on the layered entry's GUID. */
  record SetCategories(CatalogKind catalog, UUID guid, int categories) implements CatalogStep {}
}
