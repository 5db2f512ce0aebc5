package dev.teardown.admin.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.teardown.admin.catalog.CatalogEntry.CatalogKind;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Fault injection: a plan whose n-th catalog call fails, for every n, leaves the catalog as it
 * was: every entry, link and flag, and the order. Entries that had to be re-created carry new ids,
 * as they would on Windows, and are compared by GUID and description.
 */
class CatalogTransactionTest {
  private static final CatalogPlanner.Paths PATHS = new CatalogPlanner.Paths("C:\\td64.dll", "C:\\td32.dll");

  private static Catalog fixture(String name) throws IOException {
    try (InputStream in = CatalogTransactionTest.class.getResourceAsStream("/catalog/" + name)) {
      return NetshCatalogParser.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8)).catalog();
    }
  }

  // Where a catalog held two entries under one GUID (Teardown installed twice), only one can come
  // back: Windows installs a GUID once. The rest is restored exactly.
  private static void failingAtEveryCall(Catalog start, Function<Catalog, List<CatalogStep>> plan, boolean sameIds) {
    List<CatalogStep> steps = plan.apply(start);
    assertTrue(!steps.isEmpty(), "a plan with steps");
    for (int failAt = 0; failAt < steps.size(); failAt++) {
      InMemoryCatalog catalog = new InMemoryCatalog(start);
      catalog.failAtChangingCall(failAt);
      assertThrows(CatalogTransaction.RolledBack.class, () -> CatalogTransaction.run(catalog, steps), "call " + failAt);
      for (CatalogKind kind : CatalogKind.values()) {
        if (sameIds) {
          assertEquals(start.entries(kind), catalog.enumerate(kind), kind + ", failing at call " + failAt);
        } else {
          List<String> exact = CatalogTransaction.canonical(start.entries(kind));
          List<String> after = CatalogTransaction.canonical(catalog.enumerate(kind));
          assertTrue(after.equals(exact) || after.equals(exact.stream().distinct().toList()),
              kind + ", failing at call " + failAt + ": " + after);
        }
      }
    }
  }

  @Test
  void aFailedInstallLeavesTheCatalogExactlyAsItWas() throws IOException {
    failingAtEveryCall(fixture("x64-english-lavasoft.txt"),
        c -> CatalogPlanner.install(c, PATHS, CatalogPlanner.DEFAULT_CATEGORIES, LspMode.COMPATIBLE), true);
  }

  @Test
  void aFailedUninstallPutsEverythingBackIncludingAnotherVendorsRelinkedChain() throws IOException {
    InMemoryCatalog installed = new InMemoryCatalog(fixture("x64-english-lavasoft.txt"));
    installed.apply(CatalogPlanner.install(installed.snapshot(), PATHS, CatalogPlanner.DEFAULT_CATEGORIES, LspMode.COMPATIBLE));
    // Another vendor then layers over our first chain: uninstalling must relink it, and a failed
    // uninstall must link it back to our (re-created) entries.
    CatalogEntry ourChain = installed.enumerate(CatalogKind.NATIVE).get(0);
    List<Integer> overOurs = new java.util.ArrayList<>(List.of(1015));
    overOurs.addAll(ourChain.chain());
    installed.install(CatalogKind.NATIVE, new CatalogEntry(CatalogKind.NATIVE, CatalogEntry.EntryKind.CHAIN,
        "LavasoftLSP over [Teardown over [MSAFD Tcpip [TCP/IP]]]", java.util.UUID.randomUUID(), "C:\\lava.dll",
        0, 2, 2, 16, 16, 1, 6, 0x66, List.of()), overOurs);
    Catalog start = installed.snapshot();
    assertTrue(CatalogPlanner.uninstall(start).stream().anyMatch(step -> step instanceof CatalogStep.Relink));
    failingAtEveryCall(start, CatalogPlanner::uninstall, false);
  }

  @Test
  void aFailedRepairPutsBackAllThatWindowsCanHold() throws IOException {
    failingAtEveryCall(fixture("teardown-installed-twice.txt"), CatalogPlanner::repair, false);
  }

  @Test
  void aSuccessfulRunIsVerifiedAndLeavesThePlannedCatalog() throws IOException {
    Catalog start = fixture("x64-chinese-orphaned-chain.txt");
    InMemoryCatalog catalog = new InMemoryCatalog(start);
    List<CatalogStep> steps = CatalogPlanner.install(start, PATHS, CatalogPlanner.DEFAULT_CATEGORIES, LspMode.COMPATIBLE);
    CatalogTransaction.run(catalog, steps);
    InMemoryCatalog expected = new InMemoryCatalog(start);
    expected.apply(steps);
    assertEquals(expected.snapshot().entries(), catalog.snapshot().entries());
  }
}
