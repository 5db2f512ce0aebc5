package dev.teardown.admin.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The installer's backups: written in netsh's English form and read back as they were. */
class NetshCatalogWriterTest {
  private static Catalog fixture(String name) throws IOException {
    try (InputStream in = NetshCatalogWriterTest.class.getResourceAsStream("/catalog/" + name)) {
      return NetshCatalogParser.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8)).catalog();
    }
  }

  @Test
  void everyFixtureReadsBackAsItWasBothCatalogsAndEveryChain() throws IOException {
    for (String name : new String[] {"x64-english-lavasoft.txt", "x64-chinese-orphaned-chain.txt",
        "teardown-installed-twice.txt"}) {
      Catalog catalog = fixture(name);
      NetshCatalogParser.Result back = NetshCatalogParser.parse(NetshCatalogWriter.write(catalog));
      assertTrue(back.incomplete().isEmpty(), name + ": " + back.incomplete());
      assertEquals(catalog.entries(), back.catalog().entries(), name);
    }
  }
}
