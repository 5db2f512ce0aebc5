package dev.teardown.admin.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.teardown.admin.catalog.CatalogEntry.CatalogKind;
import dev.teardown.admin.catalog.CatalogEntry.EntryKind;
import dev.teardown.admin.catalog.CatalogProblem.Kind;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The parser and checker on dumps written from the facts of real ones (FORMAT.md). */
class CatalogCheckTest {

  private static NetshCatalogParser.Result parse(String fixture) throws IOException {
    try (InputStream in = CatalogCheckTest.class.getResourceAsStream("/catalog/" + fixture)) {
      return NetshCatalogParser.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  private static List<Kind> kinds(List<CatalogProblem> problems) {
    return problems.stream().map(CatalogProblem::kind).toList();
  }

  @Test
  void bothCatalogsWithAThirdPartyLspAndNameSpacesAreReadAndHealthy() throws IOException {
    NetshCatalogParser.Result result = parse("x64-english-lavasoft.txt");
    assertEquals(List.of(), result.incomplete());
    Catalog catalog = result.catalog();
    assertEquals(8, catalog.entries(CatalogKind.NATIVE).size());
    assertEquals(8, catalog.entries(CatalogKind.WOW32).size());
    assertEquals(2, catalog.nameSpaces().size());
    CatalogEntry lsp = catalog.entry(CatalogKind.NATIVE, 1015).orElseThrow();
    assertEquals(EntryKind.LAYERED, lsp.kind());
    assertFalse(lsp.ifs());
    assertEquals("C:\\Program Files (x86)\\Lavasoft\\Web Companion\\Application\\x64\\LavasoftLSP.dll", lsp.providerPath());
    CatalogEntry chain = catalog.entry(CatalogKind.NATIVE, 1016).orElseThrow();
    assertEquals("LavasoftLSP over [MSAFD Tcpip [TCP/IP]]", chain.description());
    assertEquals(List.of(1015, 1001), chain.chain());
    CatalogEntry tcp = catalog.entry(CatalogKind.NATIVE, 1001).orElseThrow();
    assertEquals(UUID.fromString("E70F1AA0-AB8B-11CF-8CA3-00805F48A192"), tcp.providerId());
    assertEquals(0x20066, tcp.serviceFlags());
    assertTrue(tcp.ifs());
    assertEquals(List.of(), CatalogChecker.check(catalog), "shared base GUIDs are normal");
  }

  @Test
  void aChineseDumpShowsAnOrphanedChainAndAChainToAMissingEntry() throws IOException {
    NetshCatalogParser.Result result = parse("x64-chinese-orphaned-chain.txt");
    assertEquals(List.of(), result.incomplete());
    assertEquals(8, result.catalog().entries(CatalogKind.NATIVE).size());
    assertEquals(0, result.catalog().entries(CatalogKind.WOW32).size());
    List<CatalogProblem> problems = CatalogChecker.check(result.catalog());
    assertEquals(List.of(Kind.ORPHANED_CHAIN, Kind.MISSING_LOWER_ENTRY), kinds(problems));
    assertEquals(1021, problems.get(0).entryId());
    assertTrue(problems.get(0).message().contains("layered entry 1020"), problems.get(0).message());
    assertTrue(problems.get(0).fix().contains("{11111111-2222-3333-4444-555555555555}"), problems.get(0).fix());
    assertTrue(problems.get(1).message().contains("entry 1099"), problems.get(1).message());
  }

  @Test
  void aPasteWithABannerAndACutOffBlockIsReadAsFarAsItGoes() throws IOException {
    NetshCatalogParser.Result result = parse("pasted-banner-truncated.txt");
    assertEquals(1, result.incomplete().size());
    assertTrue(result.incomplete().get(0).contains("line 135") && result.incomplete().get(0).contains("ends before its family"), result.incomplete().get(0));
    assertEquals(8, result.catalog().entries().size());
    // LavasoftLSP (non-IFS) over PGPlsp (IFS): the usual, sound order.
    assertEquals(List.of(), CatalogChecker.check(result.catalog()));
  }

  @Test
  void anIfsLayerAboveANonIfsOneIsAProblemWithItsFix() throws IOException {
    List<CatalogProblem> problems = CatalogChecker.check(parse("x64-ifs-over-non-ifs.txt").catalog());
    assertEquals(List.of(Kind.IFS_ABOVE_NON_IFS), kinds(problems));
    assertEquals(1019, problems.get(0).entryId());
    assertTrue(problems.get(0).message().contains("IFS PGPlsp above non-IFS LavasoftLSP"), problems.get(0).message());
    assertTrue(problems.get(0).fix().contains("sits below LavasoftLSP"), problems.get(0).fix());
  }

  @Test
  void teardownInEitherModeAboveOrBeneathAnotherVendorIsNoProblem() throws IOException {
    for (String name : List.of("x64-english-lavasoft.txt", "pasted-banner-truncated.txt")) {
      Catalog before = parse(name).catalog();
      for (LspMode mode : LspMode.values()) {
        InMemoryCatalog memory = new InMemoryCatalog(before);
        memory.apply(CatalogPlanner.install(before, new CatalogPlanner.Paths("a.dll", "b.dll"),
            CatalogPlanner.DEFAULT_CATEGORIES, mode));
        assertEquals(List.of(), CatalogChecker.check(memory.snapshot()), name + ", " + mode);
      }
    }
  }

  @Test
  void teardownInstalledTwiceIsOneProblemWithItsFix() throws IOException {
    List<CatalogProblem> problems = CatalogChecker.check(parse("teardown-installed-twice.txt").catalog());
    assertEquals(List.of(Kind.TEARDOWN_INSTALLED_TWICE), kinds(problems));
    assertTrue(problems.get(0).fix().contains("teardown repair"));
  }

  @Test
  void duplicateGuidsOfLayeredEntriesAreFlagged() throws IOException {
    Catalog catalog = parse("x64-english-lavasoft.txt").catalog();
    CatalogEntry lsp = catalog.entry(CatalogKind.NATIVE, 1015).orElseThrow();
    CatalogEntry copy = new CatalogEntry(lsp.catalog(), lsp.kind(), "Another LSP", lsp.providerId(),
        "C:\\other.dll", 1030, 2, 2, 16, 16, 1, 6, 0x20066, List.of());
    List<CatalogEntry> entries = new java.util.ArrayList<>(catalog.entries());
    entries.add(copy);
    List<CatalogProblem> problems = CatalogChecker.check(new Catalog(entries, catalog.nameSpaces()));
    assertEquals(List.of(Kind.DUPLICATE_GUID), kinds(problems));
  }

  @Test
  void aLiveCheckFindsProviderFilesThatAreGone() throws IOException {
    Catalog catalog = parse("x64-english-lavasoft.txt").catalog();
    List<CatalogProblem> problems = CatalogChecker.check(catalog, path -> !path.contains("LavasoftLSP"));
    assertEquals(6, problems.size(), "the layered entry and its two chains, in each catalog");
    assertTrue(problems.stream().allMatch(p -> p.kind() == Kind.PROVIDER_PATH_MISSING));
  }

  @Test
  void textThatIsNoCatalogIsUnusable() {
    NetshCatalogParser.Result result = NetshCatalogParser.parse("C:\\>dir\n Volume in drive C has no label.\n");
    assertFalse(result.usable());
  }
}
