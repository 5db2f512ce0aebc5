package dev.teardown.admin.catalog;

import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * One transport entry of a Winsock catalog: the fields of WSAPROTOCOL_INFOW that installing,
 * removing and diagnosing layered providers depend on.
 *
 * @param catalog which catalog holds it (64-bit Windows keeps a second, 32-bit one)
 * @param kind base provider, layered (hidden) entry, or protocol chain
 * @param description szProtocol, for chains conventionally "NAME over [LOWER]"
 * @param providerId ProviderId: the provider's GUID
 * @param providerPath the DLL, as stored (often with %SystemRoot% unexpanded)
 * @param id dwCatalogEntryId
 * @param version iVersion
 * @param addressFamily iAddressFamily (2 IPv4, 23 IPv6)
 * @param maxAddressLength iMaxSockAddr
 * @param minAddressLength iMinSockAddr
 * @param socketType iSocketType
 * @param protocol iProtocol
 * @param serviceFlags dwServiceFlags1
 * @param chain ProtocolChain.ChainEntries: empty for a layered entry, its own id for a base
 *     provider, top of the chain first and the base last for a chain
 */
public record CatalogEntry(
    CatalogKind catalog,
    EntryKind kind,
    String description,
    UUID providerId,
    String providerPath,
    int id,
    int version,
    int addressFamily,
    int maxAddressLength,
    int minAddressLength,
    int socketType,
    int protocol,
    int serviceFlags,
    List<Integer> chain) {

  /** XP1_IFS_HANDLES: the provider's handles are real file-system handles. */
  public static final int XP1_IFS_HANDLES = 0x20000;
  /** XP1_DISCONNECT_DATA: the protocol carries disconnect data. */
  public static final int XP1_DISCONNECT_DATA = 0x100;

  public CatalogEntry {
    Objects.requireNonNull(catalog, "catalog");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(description, "description");
    Objects.requireNonNull(providerId, "providerId");
    Objects.requireNonNull(providerPath, "providerPath");
    chain = List.copyOf(chain);
  }

  public boolean ifs() {
    return (serviceFlags & XP1_IFS_HANDLES) != 0;
  }

  /** For a chain: the layered entry at its top (ChainEntries[0]); else -1. */
  public int layeredEntryId() {
    return kind == EntryKind.CHAIN && !chain.isEmpty() ? chain.get(0) : -1;
  }

  /** For a chain: the base provider at its bottom; for a base provider: itself; else -1. */
  public int baseEntryId() {
    return chain.isEmpty() ? -1 : chain.get(chain.size() - 1);
  }

  /** The kinds of transport entry. */
  public enum EntryKind {
    /** A base service provider (chain length 1). */
    BASE,
    /** A layered provider's hidden entry (chain length 0). */
    LAYERED,
    /** A protocol chain through one or more layered providers (chain length 2 or more). */
    CHAIN;

    /** The kind a chain of this length means. */
    static EntryKind ofChainLength(int length) {
      return length == 0 ? LAYERED : length == 1 ? BASE : CHAIN;
    }
  }

  /** Which catalog. */
  public enum CatalogKind {
    /** The native catalog (the 64-bit one on 64-bit Windows). */
    NATIVE,
    /** The 32-bit catalog of 64-bit Windows. */
    WOW32;

    /**
     * The order plans change catalogs in: the 32-bit one first, so that 64-bit processes, the
     * machine's own, load Teardown only once both catalogs have it. Each catalog is changed with
     * its own calls and gets exactly its own entries (see WindowsCatalog).
     */
    public static final List<CatalogKind> CHANGE_ORDER = List.of(WOW32, NATIVE);
  }
}
