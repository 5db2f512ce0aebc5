package dev.teardown.admin;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/**
 * What {@code teardown --version} prints: the version and the commit the build wrote into
 * {@code build.properties} (the version is the parent POM's, the one place it is set).
 */
final class VersionProvider implements IVersionProvider {
  /** The version and commit of this build; "development" and "unknown" when run from bare classes. */
  record Build(String version, String commit) {
    static Build current() {
      Properties properties = new Properties();
      try (InputStream in = VersionProvider.class.getResourceAsStream("build.properties")) {
        if (in != null) {
          properties.load(in);
        }
      } catch (IOException e) {
        // said as unknown below
      }
      return new Build(properties.getProperty("version", "development"), properties.getProperty("commit", "unknown"));
    }
  }

  @Override
  public String[] getVersion() {
    Build build = Build.current();
    return new String[] {"teardown " + build.version() + " (commit " + build.commit() + ")"};
  }
}
