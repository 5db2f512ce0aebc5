package dev.teardown.admin;

import picocli.CommandLine.IVersionProvider;

/** The version from the jar's manifest, or "development" when run from classes. */
final class VersionProvider implements IVersionProvider {
  @Override
  public String[] getVersion() {
    String version = TeardownCommand.class.getPackage().getImplementationVersion();
    return new String[] {"teardown " + (version == null ? "development" : version)};
  }
}
