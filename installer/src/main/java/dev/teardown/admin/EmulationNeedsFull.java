package dev.teardown.admin;

import dev.teardown.admin.catalog.Catalog;
import dev.teardown.admin.catalog.CatalogPlanner;
import dev.teardown.admin.catalog.LspMode;
import dev.teardown.api.Configuration;
import java.util.Optional;

/**
 * Disconnect-data emulation frames a connection's stream between two Teardown layers, which only
 * full mode can do: in compatible mode the program's requests complete without Teardown seeing
 * them, and Teardown never changes a stream. Said wherever emulation is configured on such a
 * machine ({@code config set}, {@code status}).
 */
final class EmulationNeedsFull {
  private EmulationNeedsFull() {}

  /** The warning, when {@code config} asks for emulation and {@code catalog} has compatible mode. */
  static Optional<String> warning(Catalog catalog, Configuration config) {
    if (config.emulationPorts().isEmpty()
        || CatalogPlanner.installedMode(catalog).orElse(LspMode.FULL) != LspMode.COMPATIBLE) {
      return Optional.empty();
    }
    return Optional.of("emulation-ports are set, but Teardown is installed in compatible mode, which"
        + " never changes a stream: Windows programs carry no disconnect data on those ports until"
        + " Teardown is installed with `teardown install --mode full`");
  }
}
