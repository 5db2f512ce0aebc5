package dev.teardown.admin.catalog;

import java.util.Locale;
import java.util.UUID;

/** How Teardown's own entries are recognised in a catalog. */
public final class TeardownProvider {
  /** The ProviderId of Teardown's hidden layered entry. */
  public static final UUID GUID = UUID.fromString("7E2A5D1C-6B3F-4C8E-9A0D-2F1B4C6D8E10");
  /** The DLL's file name. */
  public static final String DLL = "teardown_lsp.dll";

  private TeardownProvider() {}

  /** Teardown's hidden entry: by its GUID, or a layered entry whose path is Teardown's DLL. */
  public static boolean isOurs(CatalogEntry entry) {
    String path = entry.providerPath().replace('/', '\\').toLowerCase(Locale.ROOT);
    return entry.providerId().equals(GUID) || path.endsWith("\\" + DLL) || path.equals(DLL);
  }
}
