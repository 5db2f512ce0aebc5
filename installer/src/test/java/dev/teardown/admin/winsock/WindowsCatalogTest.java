package dev.teardown.admin.winsock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.teardown.admin.catalog.Catalog;
import dev.teardown.admin.catalog.CatalogEntry;
import dev.teardown.admin.catalog.CatalogEntry.CatalogKind;
import dev.teardown.admin.catalog.CatalogEntry.EntryKind;
import dev.teardown.admin.catalog.CatalogPlanner;
import dev.teardown.admin.catalog.LspMode;
import dev.teardown.admin.catalog.CatalogStep;
import dev.teardown.admin.catalog.CatalogTransaction;
import dev.teardown.admin.catalog.NetshCatalogParser;
import dev.teardown.admin.catalog.TeardownProvider;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The binding's driver against a ws2_32 that answers as documented (FakeWs2): entries read into
 * the model and written back as WSAPROTOCOL_INFOW, install and uninstall through it returning the
 * catalogs byte for byte, and a failure at any call rolled back through it.
 */
class WindowsCatalogTest {
  private static final CatalogPlanner.Paths PATHS =
      new CatalogPlanner.Paths("%SystemRoot%\\system32\\teardown_lsp.dll", "%SystemRoot%\\system32\\teardown_lsp.dll");

  private static Catalog fixture(String name) throws IOException {
    try (InputStream in = WindowsCatalogTest.class.getResourceAsStream("/catalog/" + name)) {
      return NetshCatalogParser.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8)).catalog();
    }
  }

  @Test
  void theStructureIsLaidOutAsInTheHeader() {
    // The same numbers are static_asserts against the real header in the mingw builds
    // (native-lsp/test/spi_host/stand_in.cpp), 64- and 32-bit.
    class Layout extends WsaProtocolInfo {
      int offset(String field) {
        return fieldOffset(field);
      }
    }
    Layout layout = new Layout();
    assertEquals(628, layout.size());
    assertEquals(32, new WsaProtocolChain().size());
    Map<String, Integer> offsets = Map.ofEntries(Map.entry("dwServiceFlags1", 0), Map.entry("dwServiceFlags2", 4),
        Map.entry("dwServiceFlags3", 8), Map.entry("dwServiceFlags4", 12), Map.entry("dwProviderFlags", 16),
        Map.entry("ProviderId", 20), Map.entry("dwCatalogEntryId", 36), Map.entry("ProtocolChain", 40),
        Map.entry("iVersion", 72), Map.entry("iAddressFamily", 76), Map.entry("iMaxSockAddr", 80),
        Map.entry("iMinSockAddr", 84), Map.entry("iSocketType", 88), Map.entry("iProtocol", 92),
        Map.entry("iProtocolMaxOffset", 96), Map.entry("iNetworkByteOrder", 100), Map.entry("iSecurityScheme", 104),
        Map.entry("dwMessageSize", 108), Map.entry("dwProviderReserved", 112), Map.entry("szProtocol", 116));
    offsets.forEach((field, offset) -> assertEquals(offset, layout.offset(field), field));
  }

  @Test
  void namesAndGuidsSurviveTheRoundTrip() {
    WsaProtocolInfo info = new WsaProtocolInfo();
    info.setName("Teardown over [MSAFD Tcpip [TCP/IP]] ünïcode");
    assertEquals("Teardown over [MSAFD Tcpip [TCP/IP]] ünïcode", info.name());
    info.setName("x".repeat(400));
    assertEquals(255, info.name().length(), "cut to fit with its terminating null");
    UUID guid = TeardownProvider.GUID;
    assertEquals(guid, WindowsCatalog.uuid(WindowsCatalog.guid(guid)));
  }

  @Test
  void enumerateReadsEveryModelledFieldOfBothCatalogs() throws IOException {
    Catalog start = fixture("x64-english-lavasoft.txt");
    WindowsCatalog catalog = new FakeWs2(start).catalog();
    for (CatalogKind kind : CatalogKind.values()) {
      assertEquals(start.entries(kind), catalog.enumerate(kind), kind.toString());
    }
  }

  @Test
  void aCatalogLargerThanTheFirstBufferIsReadWhole() throws IOException {
    Catalog start = fixture("x64-english-lavasoft.txt");
    List<CatalogEntry> many = new ArrayList<>(start.entries());
    CatalogEntry base = start.entries(CatalogKind.NATIVE).stream().filter(e -> e.kind() == EntryKind.BASE)
        .findFirst().orElseThrow();
    for (int i = 0; i < 60; i++) {
      many.add(new CatalogEntry(CatalogKind.NATIVE, EntryKind.BASE, "extra " + i, UUID.randomUUID(), "x.dll",
          9000 + i, 2, 2, 16, 16, 1, 6, base.serviceFlags(), List.of(9000 + i)));
    }
    Catalog large = new Catalog(many, List.of());
    assertEquals(large.entries(CatalogKind.NATIVE), new FakeWs2(large).catalog().enumerate(CatalogKind.NATIVE));
  }

  @Test
  void installWritesHiddenEntryAndChainsAndUninstallGivesBackEveryByte() throws IOException {
    Catalog start = fixture("x64-english-lavasoft.txt");
    FakeWs2 ws2 = new FakeWs2(start);
    Map<CatalogKind, List<String>> before = ws2.snapshot();
    WindowsCatalog catalog = ws2.catalog();

    CatalogTransaction.run(catalog, CatalogPlanner.install(start, PATHS, CatalogPlanner.DEFAULT_CATEGORIES, LspMode.COMPATIBLE));
    for (CatalogKind kind : CatalogKind.values()) {
      List<WsaProtocolInfo> infos = ws2.infos(kind);
      List<WsaProtocolInfo> hidden = infos.stream()
          .filter(i -> WindowsCatalog.uuid(i.ProviderId).equals(TeardownProvider.GUID)).toList();
      assertEquals(1, hidden.size(), kind + ": one hidden entry in each catalog");
      WsaProtocolInfo layered = hidden.get(0);
      assertEquals(0, layered.ProtocolChain.ChainLen);
      assertTrue((layered.dwProviderFlags & WsaProtocolInfo.PFL_HIDDEN) != 0, "hidden");
      assertEquals(CatalogEntry.XP1_IFS_HANDLES, layered.dwServiceFlags1 & CatalogEntry.XP1_IFS_HANDLES,
          "IFS: installed in compatible mode");
      WsaProtocolInfo firstChain = infos.get(0);
      assertEquals(layered.dwCatalogEntryId, firstChain.ProtocolChain.ChainEntries[0], "our chain comes first");
      assertEquals(0, firstChain.dwProviderFlags & WsaProtocolInfo.PFL_HIDDEN, "a chain is listed");
      WsaProtocolInfo below = infos.stream()
          .filter(i -> i.dwCatalogEntryId == firstChain.ProtocolChain.ChainEntries[1]).findFirst().orElseThrow();
      assertEquals(below.dwMessageSize, firstChain.dwMessageSize, "unmodelled fields come from the entry below");
      assertEquals(below.dwServiceFlags2, firstChain.dwServiceFlags2, "unmodelled fields come from the entry below");
    }
    assertEquals(CatalogPlanner.DEFAULT_CATEGORIES, ws2.categories.get(TeardownProvider.GUID));

    Catalog installed = new Catalog(concat(catalog.enumerate(CatalogKind.NATIVE), catalog.enumerate(CatalogKind.WOW32)),
        List.of());
    assertTrue(CatalogPlanner.install(installed, PATHS, CatalogPlanner.DEFAULT_CATEGORIES, LspMode.COMPATIBLE).isEmpty(),
        "a second install plans nothing");
    CatalogTransaction.run(catalog, CatalogPlanner.uninstall(installed));
    assertEquals(before, ws2.snapshot(), "every entry's bytes and the order, in both catalogs");
  }

  @Test
  void aFailureAtAnyCallIsRolledBackThroughTheBinding() throws IOException {
    Catalog start = fixture("x64-english-lavasoft.txt");
    List<CatalogStep> steps = CatalogPlanner.install(start, PATHS, CatalogPlanner.DEFAULT_CATEGORIES, LspMode.COMPATIBLE);
    int calls = countChangingCalls(start, steps);
    assertEquals(steps.size(), calls, "one catalog call per step, in either catalog");
    for (int failAt = 0; failAt < calls; failAt++) {
      FakeWs2 ws2 = new FakeWs2(start);
      Map<CatalogKind, List<String>> before = ws2.snapshot();
      ws2.failAtChangingCall = failAt;
      WindowsCatalog catalog = ws2.catalog();
      assertThrows(CatalogTransaction.RolledBack.class, () -> CatalogTransaction.run(catalog, steps), "call " + failAt);
      assertEquals(before, ws2.snapshot(), "failing at call " + failAt);
    }
  }

  @Test
  void eachCatalogGetsExactlyItsOwnEntriesWhateverTheOtherHolds() throws IOException {
    Catalog start = fixture("x64-english-lavasoft.txt");
    FakeWs2 ws2 = new FakeWs2(start);
    WindowsCatalog catalog = ws2.catalog();
    List<CatalogStep> steps = CatalogPlanner.install(start, PATHS, CatalogPlanner.DEFAULT_CATEGORIES, LspMode.COMPATIBLE);
    CatalogTransaction.run(catalog, steps.stream().filter(s -> s.catalog() == CatalogKind.NATIVE).toList());
    List<String> nativeInstalled = ws2.snapshot().get(CatalogKind.NATIVE);
    // The 32-bit catalog, with Teardown's GUID already in the native one: the 32-bit helper
    // installs there alone, and the native catalog is untouched.
    CatalogTransaction.run(catalog, steps.stream().filter(s -> s.catalog() == CatalogKind.WOW32).toList());
    assertEquals(nativeInstalled, ws2.snapshot().get(CatalogKind.NATIVE));
    for (CatalogKind kind : CatalogKind.values()) {
      assertEquals(1, ws2.infos(kind).stream()
          .filter(i -> WindowsCatalog.uuid(i.ProviderId).equals(TeardownProvider.GUID)).count(), kind.toString());
    }
  }

  @Test
  void aHelperThatCannotBeUnderstoodIsAFailureNamingWhatItSaid() {
    assertEquals(0, Catalog32Process.outcome(0, "ok"));
    assertEquals(11003, Catalog32Process.outcome(1, "error 11003"));
    var failure = assertThrows(dev.teardown.admin.catalog.CatalogCalls.CatalogException.class,
        () -> Catalog32Process.outcome(2, "teardown_catalog32: the entry is not the GUID's"));
    assertTrue(failure.getMessage().contains("exited 2: teardown_catalog32: the entry is not the GUID's"),
        failure.getMessage());
    assertThrows(dev.teardown.admin.catalog.CatalogCalls.CatalogException.class,
        () -> Catalog32Process.outcome(0, "error 5"), "an exit code that contradicts the output");
  }

  // The changing calls a plan makes: the first index whose failure no longer stops it.
  private static int countChangingCalls(Catalog start, List<CatalogStep> steps) {
    int calls = 0;
    while (calls < 1000) {
      FakeWs2 probe = new FakeWs2(start);
      probe.failAtChangingCall = calls;
      try {
        CatalogTransaction.run(probe.catalog(), steps);
        return calls;
      } catch (CatalogTransaction.RolledBack expected) {
        calls++;
      }
    }
    throw new AssertionError("a plan that never completes");
  }

  private static List<CatalogEntry> concat(List<CatalogEntry> a, List<CatalogEntry> b) {
    List<CatalogEntry> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }
}
