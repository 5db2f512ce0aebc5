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
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** Plans, applied to an in-memory catalog, on every fixture and in both modes. */
class CatalogPlannerTest {
  private static final CatalogPlanner.Paths PATHS =
      new CatalogPlanner.Paths("C:\\Program Files\\Teardown\\x64\\teardown_lsp.dll",
          "C:\\Program Files\\Teardown\\x86\\teardown_lsp.dll");
  private static final List<String> FIXTURES = List.of("x64-english-lavasoft.txt",
      "x64-chinese-orphaned-chain.txt", "pasted-banner-truncated.txt", "x64-ifs-over-non-ifs.txt",
      "x64-ifs-vendor.txt");

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

  private static Catalog install(Catalog catalog, LspMode mode) {
    return applied(catalog, CatalogPlanner.install(catalog, PATHS, CatalogPlanner.DEFAULT_CATEGORIES, mode));
  }

  static Stream<Arguments> fixturesInEachMode() {
    return FIXTURES.stream().flatMap(name -> Stream.of(LspMode.values()).map(mode -> Arguments.of(name, mode)));
  }

  private static CatalogEntry ourHidden(Catalog catalog, CatalogKind kind) {
    return catalog.entries(kind).stream()
        .filter(e -> e.kind() == EntryKind.LAYERED && TeardownProvider.isOurs(e)).findFirst().orElseThrow();
  }

  @ParameterizedTest
  @MethodSource("fixturesInEachMode")
  void installThenUninstallGivesBackTheCatalogOrderIncluded(String name, LspMode mode) throws IOException {
    Catalog before = fixture(name);
    Catalog installed = install(before, mode);
    assertTrue(installed.entries().size() > before.entries().size());
    assertEquals(java.util.Optional.of(mode), CatalogPlanner.installedMode(installed));
    Catalog after = applied(installed, CatalogPlanner.uninstall(installed));
    for (CatalogKind kind : CatalogKind.values()) {  // each catalog has its own order
      assertEquals(before.entries(kind), after.entries(kind), kind + " catalog");
    }
  }

  @ParameterizedTest
  @MethodSource("fixturesInEachMode")
  void whatInstallLeavesHasNoProblemThatWasNotThereBefore(String name, LspMode mode) throws IOException {
    Catalog before = fixture(name);
    List<String> problemsBefore = CatalogChecker.check(before).stream().map(CatalogProblem::message).toList();
    List<String> problemsAfter = CatalogChecker.check(install(before, mode)).stream()
        .map(CatalogProblem::message).toList();
    assertEquals(problemsBefore, problemsAfter);
  }

  @ParameterizedTest
  @MethodSource("fixturesInEachMode")
  void aSecondInstallPlansNothing(String name, LspMode mode) throws IOException {
    Catalog installed = install(fixture(name), mode);
    for (LspMode again : LspMode.values()) {
      assertEquals(List.of(), CatalogPlanner.install(installed, PATHS, CatalogPlanner.DEFAULT_CATEGORIES, again));
    }
  }

  @ParameterizedTest
  @EnumSource(LspMode.class)
  void everyPathToTcpKeepsItsPriorityWithTeardownInIt(LspMode mode) throws IOException {
    Catalog before = fixture("x64-english-lavasoft.txt");
    InMemoryCatalog memory = new InMemoryCatalog(before);
    memory.apply(CatalogPlanner.install(before, PATHS, CatalogPlanner.DEFAULT_CATEGORIES, mode));
    Catalog installed = memory.snapshot();
    assertEquals(CatalogPlanner.DEFAULT_CATEGORIES, memory.categories(TeardownProvider.GUID));
    for (CatalogKind kind : CatalogKind.values()) {
      List<CatalogEntry> entries = installed.entries(kind);
      CatalogEntry hidden = ourHidden(installed, kind);
      assertEquals(entries.get(entries.size() - 1), hidden, "the hidden entry goes last");
      assertEquals(mode == LspMode.COMPATIBLE, hidden.ifs(), "its IFS flag says the mode");
      assertEquals(PATHS.of(kind), hidden.providerPath());
      List<Integer> originalOrder = before.entries(kind).stream().map(CatalogEntry::id).toList();
      assertEquals(originalOrder, entries.stream().filter(e -> originalOrder.contains(e.id()))
          .map(CatalogEntry::id).toList(), "the entries that were there keep their order");
      for (int i = 0; i < entries.size(); i++) {
        CatalogEntry entry = entries.get(i);
        if (entry.kind() == EntryKind.CHAIN && TeardownProvider.isOurs(entry)) {
          CatalogEntry next = entries.get(i + 1);
          assertEquals(next.chain(), entry.chain().subList(1, entry.chain().size()),
              entry.description() + " comes just before what it layers over");
          assertEquals("Teardown over [" + next.description() + "]", entry.description());
          assertEquals(mode == LspMode.COMPATIBLE, entry.ifs(), entry.description());
        }
      }
      assertEquals(List.of(hidden.id(), 1001), entries.get(0).chain(), "the first path: Teardown over TCP/IP");
    }
  }

  @Test
  void fullModeLayersOverAnotherVendorsNonIfsChainAndChangesNoneOfTheirs() throws IOException {
    Catalog before = fixture("x64-english-lavasoft.txt");
    List<CatalogStep> steps = CatalogPlanner.install(before, PATHS, CatalogPlanner.DEFAULT_CATEGORIES, LspMode.FULL);
    assertTrue(steps.stream().noneMatch(step -> step instanceof CatalogStep.Relink));
    Catalog installed = applied(before, steps);
    CatalogEntry hidden = ourHidden(installed, CatalogKind.NATIVE);
    assertEquals(List.of("Teardown over [MSAFD Tcpip [TCP/IP]]", "Teardown over [MSAFD Tcpip [TCP/IPv6]]",
            "Teardown over [LavasoftLSP over [MSAFD Tcpip [TCP/IP]]]", "Teardown over [LavasoftLSP over [MSAFD Tcpip [TCP/IPv6]]]"),
        installed.entries(CatalogKind.NATIVE).stream().filter(e -> e.kind() == EntryKind.CHAIN && TeardownProvider.isOurs(e))
            .map(CatalogEntry::description).toList());
    assertEquals(List.of(hidden.id(), 1015, 1001), installed.entries(CatalogKind.NATIVE).stream()
        .filter(e -> e.description().equals("Teardown over [LavasoftLSP over [MSAFD Tcpip [TCP/IP]]]"))
        .findFirst().orElseThrow().chain());
  }

  @Test
  void compatibleModeGoesBeneathANonIfsVendorInsideItsChains() throws IOException {
    Catalog before = fixture("x64-english-lavasoft.txt");
    Catalog installed = install(before, LspMode.COMPATIBLE);
    for (CatalogKind kind : CatalogKind.values()) {
      int hidden = ourHidden(installed, kind).id();
      // Lavasoft's chains, still Lavasoft's, now run through Teardown beneath it.
      assertEquals(List.of(1015, hidden, 1001), installed.entry(kind, 1016).orElseThrow().chain());
      assertEquals(List.of(1015, hidden, 1003), installed.entry(kind, 1017).orElseThrow().chain());
      assertEquals(before.entry(kind, 1016).orElseThrow().description(),
          installed.entry(kind, 1016).orElseThrow().description());
      // And no chain of Teardown's stands on Lavasoft's.
      assertEquals(List.of("Teardown over [MSAFD Tcpip [TCP/IP]]", "Teardown over [MSAFD Tcpip [TCP/IPv6]]"),
          installed.entries(kind).stream().filter(e -> e.kind() == EntryKind.CHAIN && TeardownProvider.isOurs(e))
              .map(CatalogEntry::description).toList());
    }
  }

  @Test
  void compatibleModeGoesBeneathTheLowestNonIfsLayerAndOverAnIfsOne() throws IOException {
    // LavasoftLSP (non-IFS) over PGPlsp (IFS) over TCP/IP: Teardown goes between the two.
    Catalog before = fixture("pasted-banner-truncated.txt");
    Catalog installed = install(before, LspMode.COMPATIBLE);
    int hidden = ourHidden(installed, CatalogKind.NATIVE).id();
    assertEquals(List.of(1015, hidden, 1018, 1001), installed.entry(CatalogKind.NATIVE, 1016).orElseThrow().chain());
  }

  @Test
  void overAnIfsVendorsOwnChainTeardownLayersWithAChainOfItsOwn() throws IOException {
    // SangforLSP_x64, an IFS LSP, over TCP/IP and TCP/IPv6.
    Catalog before = fixture("x64-ifs-vendor.txt");
    CatalogEntry sangfor = before.entry(CatalogKind.NATIVE, 1021).orElseThrow();
    Catalog installed = install(before, LspMode.COMPATIBLE);
    int hidden = ourHidden(installed, CatalogKind.NATIVE).id();
    List<Integer> over = new ArrayList<>(List.of(hidden));
    over.addAll(sangfor.chain());
    assertTrue(installed.entries(CatalogKind.NATIVE).stream()
        .anyMatch(e -> TeardownProvider.isOurs(e) && e.ifs() && e.chain().equals(over)),
        installed.entries(CatalogKind.NATIVE).toString());
    assertEquals(sangfor, installed.entry(CatalogKind.NATIVE, sangfor.id()).orElseThrow(), "theirs unchanged");
  }

  @ParameterizedTest
  @EnumSource(LspMode.class)
  void aChainWithAnIfsLayerAboveANonIfsOneIsLeftForItsVendor(LspMode mode) throws IOException {
    // PGPlsp (IFS) over LavasoftLSP (non-IFS): its sockets fail whatever Teardown does.
    Catalog before = fixture("x64-ifs-over-non-ifs.txt");
    Catalog installed = install(before, mode);
    assertEquals(before.entry(CatalogKind.NATIVE, 1019), installed.entry(CatalogKind.NATIVE, 1019));
    assertTrue(installed.entries().stream().filter(e -> TeardownProvider.isOurs(e) && e.kind() == EntryKind.CHAIN)
        .noneMatch(e -> e.chain().contains(1018)), "no chain of Teardown's over PGPlsp's");
  }

  @Test
  void aBrokenChainIsNotLayeredOver() throws IOException {
    for (LspMode mode : LspMode.values()) {
      Catalog installed = install(fixture("x64-chinese-orphaned-chain.txt"), mode);
      assertTrue(installed.entries().stream().noneMatch(e -> e.description().contains("SangforLSP")
          && e.description().startsWith("Teardown")), mode.toString());
      assertTrue(installed.entries().stream().filter(e -> e.description().contains("SangforLSP"))
          .noneMatch(e -> e.chain().contains(ourHidden(installed, CatalogKind.NATIVE).id())), mode.toString());
    }
  }

  @Test
  void uninstallRelinksAnotherVendorsChainThatRanThroughOurs() throws IOException {
    Catalog installed = install(fixture("x64-english-lavasoft.txt"), LspMode.FULL);
    CatalogEntry ourLayered = ourHidden(installed, CatalogKind.NATIVE);
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
  void repairRemovesTheSecondInstallationAndLeavesOneWorkingInItsMode() throws IOException {
    Catalog twice = fixture("teardown-installed-twice.txt");
    LspMode mode = CatalogPlanner.installedMode(twice).orElseThrow();
    Catalog repaired = applied(twice, CatalogPlanner.repair(twice));
    assertEquals(List.of(), CatalogChecker.check(repaired));
    assertEquals(1, repaired.entries().stream().filter(e -> e.kind() == EntryKind.LAYERED && TeardownProvider.isOurs(e)).count());
    assertEquals(2, repaired.entries().stream().filter(e -> e.kind() == EntryKind.CHAIN).count());
    assertEquals(java.util.Optional.of(mode), CatalogPlanner.installedMode(repaired));
    assertEquals(List.of(), CatalogPlanner.repair(repaired), "repairing a sound catalog plans nothing");
  }

  @Test
  void repairLeavesOtherVendorsAlone() throws IOException {
    Catalog broken = fixture("x64-chinese-orphaned-chain.txt");
    assertEquals(List.of(), CatalogPlanner.repair(broken), "the orphaned chain is Sangfor's, not ours");
  }
}
