package dev.teardown.admin.catalog;

import dev.teardown.admin.catalog.CatalogEntry.CatalogKind;
import java.util.List;
import java.util.UUID;

/**
 * The Winsock catalog calls a plan is carried out with, one catalog at a time: ws2_32's WSC*
 * functions on Windows (the 32-bit catalog through their *32 forms and a 32-bit process), an in-memory
 * catalog in tests. Every method throws {@link CatalogException} when the call fails.
 */
public interface CatalogCalls {
  /** WSCEnumProtocols(32): the transport entries, in catalog order. */
  List<CatalogEntry> enumerate(CatalogKind catalog);

  /** WSCInstallProvider, in that catalog: returns the id the catalog gave the new entry. */
  int install(CatalogKind catalog, CatalogEntry template, List<Integer> chain);

  /** WSCDeinstallProvider(32) of the entry with this id (and GUID). */
  void deinstall(CatalogKind catalog, int id, UUID guid);

  /** WSCUpdateProvider(32): a chain entry's links. */
  void update(CatalogKind catalog, int id, List<Integer> chain);

  /** WSCWriteProviderOrder(32): every transport entry's id, in the new order. */
  void writeOrder(CatalogKind catalog, List<Integer> ids);

  /** WSCSetProviderInfo(32) with ProviderInfoLspCategories. */
  void setCategories(CatalogKind catalog, UUID guid, int categories);

  /** A catalog call failed; the Winsock error is kept. */
  final class CatalogException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int error;

    public CatalogException(String call, int error) {
      super(call + " failed with Winsock error " + error);
      this.error = error;
    }

    public int error() {
      return error;
    }
  }
}
