package dev.teardown.admin;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The native files that programs run with: the preload layer and the sample programs, packaged
 * in the jar under JNA's resource prefix and unpacked, by content, into a cache directory (a
 * library given to LD_PRELOAD must be a file).
 */
public final class NativeFiles {
  static final String PRELOAD = "libteardown_preload.so";
  static final String SAMPLE_SERVER = "teardown-sample-server";
  static final String SAMPLE_CLIENT = "teardown-sample-client";

  private NativeFiles() {}

  /**
   * The file: beside the jar where a package installed it (the Linux package puts the layer at
   * /usr/lib/teardown/libteardown_preload.so, next to teardown.jar), else unpacked from the jar,
   * executable. Fails clearly when this platform has no such file.
   */
  static Path get(String name) {
    Path installed = besideJar(name);
    if (installed != null) {
      return installed;
    }
    String resource = prefix() + "/" + name;
    byte[] content;
    try (InputStream in = NativeFiles.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(
            resource + " is not packaged: the Linux layer runs on Linux x86-64 and aarch64");
      }
      content = in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + resource, e);
    }
    Path target = cacheDirectory().resolve(digest(content)).resolve(name);
    try {
      if (!Files.exists(target)) {
        Files.createDirectories(target.getParent());
        Path partial = Files.createTempFile(target.getParent(), name, ".partial");
        Files.write(partial, content);
        partial.toFile().setExecutable(true, false);
        partial.toFile().setReadable(true, false);
        Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("unpacking " + name + " into " + target.getParent(), e);
    }
    return target;
  }

  /** {@code name} in the jar's own folder, when it is a regular file there; else null. */
  static Path besideJar(String name) {
    Path folder = jarFolder();
    if (folder == null) {
      return null;
    }
    Path file = folder.resolve(name);
    return Files.isRegularFile(file) ? file : null;
  }

  /**
   * A file of the Windows package, {@code relative} to its top folder (x64\teardown_lsp.dll): the
   * jar is in the package's app folder, as jpackage lays an app image out. Null when this jar is
   * not in such a package or the file is not there.
   */
  public static Path inWindowsPackage(String relative) {
    return inWindowsPackage(jarFolder(), relative);
  }

  /** {@link #inWindowsPackage(String)} for a jar in {@code folder} (null: none). */
  static Path inWindowsPackage(Path folder, String relative) {
    if (folder == null || folder.getParent() == null || !folder.getFileName().toString().equals("app")) {
      return null;
    }
    Path file = folder.getParent().resolve(relative);
    return Files.isRegularFile(file) ? file : null;
  }

  private static Path jarFolder() {
    try {
      Path jar = Path.of(NativeFiles.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      return Files.isRegularFile(jar) ? jar.getParent() : null;  // run from classes: no package
    } catch (Exception e) {
      return null;
    }
  }

  /**
   * Where a package installed JNA's and Teardown's control libraries beside the jar, JNA loads
   * them from there and unpacks nothing (else it unpacks them from the jar into a temporary
   * folder, as it always does). Called before anything loads JNA.
   */
  static void useInstalledLibraries() {
    Path dispatch = besideJar(System.mapLibraryName("jnidispatch"));
    Path control = besideJar(System.mapLibraryName("teardown"));
    if (dispatch == null || control == null || System.getProperty("jna.boot.library.path") != null) {
      return;
    }
    System.setProperty("jna.boot.library.path", dispatch.getParent().toString());
    System.setProperty("jna.nounpack", "true");
    if (System.getProperty("jna.library.path") == null) {
      System.setProperty("jna.library.path", control.getParent().toString());
    }
  }

  private static String prefix() {
    String arch = System.getProperty("os.arch");
    boolean arm = arch.equals("aarch64") || arch.equals("arm64");
    return (arm ? "linux-aarch64" : "linux-x86-64");
  }

  private static Path cacheDirectory() {
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base = xdg != null && !xdg.isEmpty() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("teardown");
  }

  private static String digest(byte[] content) {
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(content);
      return HexFormat.of().formatHex(hash, 0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
