package dev.teardown.admin.catalog;

import dev.teardown.admin.catalog.CatalogEntry.CatalogKind;

/**
 * Something wrong in a catalog, with how to fix it.
 *
 * @param kind what is wrong
 * @param catalog in which catalog
 * @param entryId the entry it is about
 * @param message what is wrong with it
 * @param fix what to do
 */
public record CatalogProblem(Kind kind, CatalogKind catalog, int entryId, String message, String fix) {
  /** The problems the checker knows. */
  public enum Kind {
    ORPHANED_CHAIN,
    MISSING_LOWER_ENTRY,
    DUPLICATE_GUID,
    PROVIDER_PATH_MISSING,
    IFS_ABOVE_NON_IFS,
    TEARDOWN_INSTALLED_TWICE
  }
}
