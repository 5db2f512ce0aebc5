package dev.teardown.admin.catalog;

import java.util.Locale;

/**
 * How Teardown is installed, which its DLL reads from its hidden entry's service flags.
 *
 * <p>{@link #COMPATIBLE} (the default): Teardown's entries carry XP1_IFS_HANDLES, programs get the
 * base provider's own socket handles and their requests complete without Teardown in between, as
 * .NET, Go, Node, Ruby and Perl expect of an IFS provider. An IFS layer must not stand on a
 * non-IFS one, so where another vendor's non-IFS LSP is installed Teardown goes beneath it, into
 * its chains. {@link #FULL}: Teardown's entries are non-IFS, it hands out handles of its own and
 * completes every request itself: it sees every completion and can emulate disconnect data, and
 * some programs meet it badly (see docs/windows.md).
 */
public enum LspMode {
  COMPATIBLE,
  FULL;

  /** The name on the command line and in reports: compatible, full. */
  public String cliName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The service flags of an entry of Teardown's copied from one with {@code flags}. */
  int flags(int flags) {
    return this == COMPATIBLE ? flags | CatalogEntry.XP1_IFS_HANDLES : flags & ~CatalogEntry.XP1_IFS_HANDLES;
  }

  /** The mode Teardown's hidden entry says it was installed in. */
  public static LspMode of(CatalogEntry hidden) {
    return hidden.ifs() ? COMPATIBLE : FULL;
  }
}
