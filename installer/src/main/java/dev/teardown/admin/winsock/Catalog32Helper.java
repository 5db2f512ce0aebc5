package dev.teardown.admin.winsock;

import java.util.UUID;

/**
 * Installs one entry into the 32-bit catalog of 64-bit Windows. A 64-bit process reaches that
 * catalog through ws2_32's *32 functions for everything but installing: WSCInstallProvider64_32,
 * which wrote both catalogs, is unavailable from Vista on, and its documentation says to call
 * WSCInstallProvider once in each catalog, which for the 32-bit one means from a 32-bit process.
 */
public interface Catalog32Helper {
  /**
   * WSCInstallProvider of {@code protocolInfo} (one WSAPROTOCOL_INFOW, as ws2spi.h lays it out)
   * under {@code provider} and {@code dllPath}, in the 32-bit catalog: 0, or the Winsock error.
   *
   * @throws dev.teardown.admin.catalog.CatalogCalls.CatalogException when it cannot be asked
   */
  int install(UUID provider, String dllPath, byte[] protocolInfo);
}
