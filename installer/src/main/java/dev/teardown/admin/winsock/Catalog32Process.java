package dev.teardown.admin.winsock;

import dev.teardown.admin.catalog.CatalogCalls.CatalogException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@link Catalog32Helper} as a 32-bit process: teardown_catalog32.exe, shipped with the 32-bit
 * DLL, copied into a fresh directory of this (elevated) user's own for each call, given the
 * entry in a file next to it, and read back: "ok", or "error N".
 */
public final class Catalog32Process implements Catalog32Helper {
  static final String RESOURCE = "/win32-x86/teardown_catalog32.exe";
  private static final int WSASYSCALLFAILURE = 10107;
  private static final long TIMEOUT_SECONDS = 60;
  private static final Pattern ERROR = Pattern.compile("error (\\d+)");

  @Override
  public int install(UUID provider, String dllPath, byte[] protocolInfo) {
    Path dir = null;
    try {
      dir = Files.createTempDirectory("teardown-catalog32");
      // The Windows package's own helper where there is one; else the one in the jar.
      Path program = dev.teardown.admin.NativeFiles.inWindowsPackage("x86/teardown_catalog32.exe");
      if (program == null) {
        program = dir.resolve("teardown_catalog32.exe");
        try (InputStream in = Catalog32Process.class.getResourceAsStream(RESOURCE)) {
          if (in == null) {
            throw failure("this build ships no " + RESOURCE.substring(1));
          }
          Files.copy(in, program);
        }
      }
      Path entry = Files.write(dir.resolve("entry.bin"), protocolInfo);
      String guid = "{" + provider.toString().toUpperCase(Locale.ROOT) + "}";
      Process process = new ProcessBuilder(List.of(program.toString(), "install", guid, dllPath,
          entry.toString())).redirectErrorStream(true).start();
      process.getOutputStream().close();
      byte[] output = process.getInputStream().readNBytes(4096);
      if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw failure("teardown_catalog32.exe did not finish in " + TIMEOUT_SECONDS + " s");
      }
      return outcome(process.exitValue(), new String(output, StandardCharsets.UTF_8).strip());
    } catch (IOException e) {
      throw failure("teardown_catalog32.exe could not be run (" + e.getMessage() + ")");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw failure("interrupted while teardown_catalog32.exe ran");
    } finally {
      deleteQuietly(dir);
    }
  }

  /** What the helper said: 0 for "ok" (exit 0), N for "error N" (exit 1), else a failure. */
  static int outcome(int exit, String said) {
    if (exit == 0 && said.equals("ok")) {
      return 0;
    }
    Matcher error = ERROR.matcher(said);
    if (exit == 1 && error.matches()) {
      return Integer.parseInt(error.group(1));
    }
    throw failure("teardown_catalog32.exe exited " + exit + ": " + said);
  }

  private static CatalogException failure(String what) {
    return new CatalogException("WSCInstallProvider in the 32-bit catalog: " + what,
        WSASYSCALLFAILURE);
  }

  private static void deleteQuietly(Path dir) {
    if (dir == null) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(file);
      }
    } catch (IOException e) {
      // a temporary directory left behind holds nothing anybody else can use
    }
  }
}
