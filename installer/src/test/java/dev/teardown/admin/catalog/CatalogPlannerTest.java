package dev.teardown.admin.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.teardown.admin.catalog.CatalogEntry.CatalogKind;
import dev.teardown.admin.catalog.CatalogEntry.EntryKind;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Plans, applied to an in-memory catalog, on every fixture. */
class CatalogPlannerTest {
  private static final CatalogPlanner.Paths PATHS =
      new CatalogPlanner.Paths("C:\\Program Files\\Teardown\\x64\\teardown_lsp.dll",
          "C:\\Program Files\\Teardown\\x86\\teardown_lsp.dll");

  private static Catalog fixture(String name) throws IOException {
    try (InputStream in = CatalogPlannerTest.class.getResourceAsStream("/catalog/" + name)) {
      return NetshCatalogParser.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8)).catalog();
    }
  }

  private static Catalog applied(Catalog catalog, List<CatalogStep> steps) {
    InMemoryCatalog memory = new InMemoryCatalog(catalog);
    memory.apply(steps);
    return memory.snapshot();
  }

  private static Catalog install(Catalog catalog) {
    return applied(catalog, CatalogPlanner.install(catalog, PATHS, CatalogPlanner.DEFAULT_CATEGORIES));
  }

  @ParameterizedTest
  @ValueSource(strings = {"x64-english-lavasoft.txt", "x64-chinese-orphaned-chain.txt", "pasted-banner-truncated.txt"})
  void installThenUninstallGivesBackTheCatalogOrderIncluded(String name) throws IOException {
    Catalog before = fixture(name);
    Catalog installed = install(before);
    assertTrue(installed.entries().size() > before.entries().size());
    Catalog after = applied(installed, CatalogPlanner.uninstall(installed));
    for (CatalogKind kind : CatalogKind.values()) {  // each catalog has its own order
      assertEquals(before.entries(kind), after.entries(kind), kind + " catalog");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"x64-english-lavasoft.txt", "x64-chinese-orphaned-chain.txt", "pasted-banner-truncated.txt",
      "teardown-installed-twice.txt"})
  void aSecondInstallPlansNothing(String name) throws IOException {
    Catalog installed = install(fixture(name));
    assertEquals(List.of(), CatalogPlanner.install(installed, PATHS, CatalogPlanner.DEFAULT_CATEGORIES));
  }

  @Test
  void installLayersOverEachTcpBaseAndChainFirstInOrderInBothCatalogs() throws IOException {
    Catalog before = fixture("x64-english-lavasoft.txt");
    InMemoryCatalog memory = new InMemoryCatalog(before);
    memory.apply(CatalogPlanner.install(before, PATHS, CatalogPlanner.DEFAULT_CATEGORIES));
    Catalog installed = memory.snapshot();
    assertEquals(CatalogPlanner.DEFAULT_CATEGORIES, memory.categories(TeardownProvider.GUID));
    for (CatalogKind kind : CatalogKind.values()) {
      List<CatalogEntry> entries = installed.entries(kind);
      CatalogEntry layered = entries.get(entries.size() - 1);
      assertEquals(EntryKind.LAYERED, layered.kind());
      assertEquals(TeardownProvider.GUID, layered.providerId());
      assertFalse(layered.ifs(), "Teardown is a non-IFS provider");
      List<CatalogEntry> ours = entries.subList(0, 4);
      assertTrue(ours.stream().allMatch(e -> e.layeredEntryId() == layered.id()), "our chains come first");
      assertEquals(List.of("Teardown over [MSAFD Tcpip [TCP/IP]]", "Teardown over [MSAFD Tcpip [TCP/IPv6]]",
              "Teardown over [LavasoftLSP over [MSAFD Tcpip [TCP/IP]]]", "Teardown over [LavasoftLSP over [MSAFD Tcpip [TCP/IPv6]]]"),
          ours.stream().map(CatalogEntry::description).toList());
      assertEquals(List.of(layered.id(), 1015, 1001), ours.get(2).chain());
      assertEquals(PATHS.of(kind), layered.providerPath());
    }
    assertEquals(List.of(), CatalogChecker.check(installed), "what install leaves is healthy");
  }

  @Test
  void aBrokenChainIsNotLayeredOver() throws IOException {
    Catalog installed = install(fixture("x64-chinese-orphaned-chain.txt"));
    assertTrue(installed.entries().stream().noneMatch(e -> e.description().contains("SangforLSP")
        && e.description().startsWith("Teardown")));
  }

  @Test
  void uninstallRelinksAnotherVendorsChainThatRanThroughOurs() throws IOException {
    Catalog installed = install(fixture("x64-english-lavasoft.txt"));
    CatalogEntry ourLayered = installed.entries(CatalogKind.NATIVE).stream()
        .filter(e -> e.kind() == EntryKind.LAYERED && TeardownProvider.isOurs(e)).findFirst().orElseThrow();
    CatalogEntry ourChain = installed.entries(CatalogKind.NATIVE).get(0);
    // Another vendor installs over our chain afterwards.
    List<CatalogEntry> entries = new ArrayList<>(installed.entries());
    List<Integer> overOurs = new ArrayList<>(List.of(1015));
    overOurs.addAll(ourChain.chain());
    entries.add(new CatalogEntry(CatalogKind.NATIVE, EntryKind.CHAIN, "LavasoftLSP over [Teardown over [MSAFD Tcpip [TCP/IP]]]",
        java.util.UUID.randomUUID(), "C:\\lava.dll", 1099, 2, 2, 16, 16, 1, 6, 0x66, overOurs));
    Catalog withVendorOnTop = new Catalog(entries, installed.nameSpaces());
    Catalog after = applied(withVendorOnTop, CatalogPlanner.uninstall(withVendorOnTop));
    CatalogEntry relinked = after.entry(CatalogKind.NATIVE, 1099).orElseThrow();
    assertEquals(List.of(1015, 1001), relinked.chain(), "our layer is cut out, the vendor's chain still works");
    assertFalse(relinked.chain().contains(ourLayered.id()));
    assertEquals(List.of(), CatalogChecker.check(after));
  }

  @Test
  void repairRemovesTheSecondInstallationAndLeavesOneWorking() throws IOException {
    Catalog twice = fixture("teardown-installed-twice.txt");
    Catalog repaired = applied(twice, CatalogPlanner.repair(twice));
    assertEquals(List.of(), CatalogChecker.check(repaired));
    assertEquals(1, repaired.entries().stream().filter(e -> e.kind() == EntryKind.LAYERED && TeardownProvider.isOurs(e)).count());
    assertEquals(2, repaired.entries().stream().filter(e -> e.kind() == EntryKind.CHAIN).count());
    assertEquals(List.of(), CatalogPlanner.repair(repaired), "repairing a sound catalog plans nothing");
  }

  @Test
  void repairLeavesOtherVendorsAlone() throws IOException {
    Catalog broken = fixture("x64-chinese-orphaned-chain.txt");
    assertEquals(List.of(), CatalogPlanner.repair(broken), "the orphaned chain is Sangfor's, not ours");
  }
}
