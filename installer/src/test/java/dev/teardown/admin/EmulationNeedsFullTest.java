package dev.teardown.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.teardown.admin.catalog.Catalog;
import dev.teardown.admin.catalog.CatalogPlanner;
import dev.teardown.admin.catalog.InMemoryCatalog;
import dev.teardown.admin.catalog.LspMode;
import dev.teardown.admin.catalog.NetshCatalogParser;
import dev.teardown.api.Configuration;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Emulation configured where Teardown is installed in compatible mode is said to need full mode. */
class EmulationNeedsFullTest {
  private static Catalog installed(LspMode mode) throws IOException {
    try (InputStream in = EmulationNeedsFullTest.class.getResourceAsStream("/catalog/x64-english-lavasoft.txt")) {
      Catalog catalog = NetshCatalogParser.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8)).catalog();
      InMemoryCatalog memory = new InMemoryCatalog(catalog);
      memory.apply(CatalogPlanner.install(catalog, new CatalogPlanner.Paths("a.dll", "b.dll"),
          CatalogPlanner.DEFAULT_CATEGORIES, mode));
      return memory.snapshot();
    }
  }

  @Test
  void onlyEmulationPortsUnderACompatibleInstallAreWarnedOf() throws IOException {
    Configuration emulating = Configuration.builder().emulationPorts(List.of(7000)).build();
    Configuration plain = Configuration.builder().build();
    Optional<String> warning = EmulationNeedsFull.warning(installed(LspMode.COMPATIBLE), emulating);
    assertTrue(warning.orElseThrow().contains("teardown install --mode full"), warning.toString());
    assertEquals(Optional.empty(), EmulationNeedsFull.warning(installed(LspMode.COMPATIBLE), plain));
    assertEquals(Optional.empty(), EmulationNeedsFull.warning(installed(LspMode.FULL), emulating));
  }
}
