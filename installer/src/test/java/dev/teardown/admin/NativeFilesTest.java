package dev.teardown.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the packages' files are found: the Windows zip's x64\ and x86\ beside its app\ folder. */
class NativeFilesTest {
  @TempDir Path dir;

  @Test
  void theWindowsPackagesFilesAreThoseBesideItsAppFolder() throws Exception {
    Path image = dir.resolve("teardown");
    Path app = Files.createDirectories(image.resolve("app"));
    Files.createDirectories(image.resolve("x64"));
    Path dll = Files.writeString(image.resolve("x64").resolve("teardown_lsp.dll"), "MZ");
    assertEquals(dll, NativeFiles.inWindowsPackage(app, "x64/teardown_lsp.dll"));
    assertNull(NativeFiles.inWindowsPackage(app, "x86/teardown_lsp.dll"), "not there: the jar's own is used");
    Path elsewhere = Files.createDirectories(dir.resolve("lib"));
    Files.createDirectories(dir.resolve("x64"));
    Files.writeString(dir.resolve("x64").resolve("teardown_lsp.dll"), "MZ");
    assertNull(NativeFiles.inWindowsPackage(elsewhere, "x64/teardown_lsp.dll"),
        "a jar outside an app folder is no package: a file that happens to be near is not used");
    assertNull(NativeFiles.inWindowsPackage(null, "x64/teardown_lsp.dll"), "run from classes");
  }
}
