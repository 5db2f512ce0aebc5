package dev.teardown.admin.winsock;

import com.sun.jna.Memory;
import com.sun.jna.WString;
import com.sun.jna.platform.win32.BaseTSD.SIZE_T;
import com.sun.jna.platform.win32.Guid;
import com.sun.jna.ptr.IntByReference;
import dev.teardown.admin.catalog.CatalogCalls;
import dev.teardown.admin.catalog.CatalogEntry;
import dev.teardown.admin.catalog.CatalogEntry.CatalogKind;
import dev.teardown.admin.catalog.CatalogEntry.EntryKind;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * The catalog calls carried out by ws2_32: entries read into {@link CatalogEntry} and written
 * back as WSAPROTOCOL_INFOW. The fields the model leaves out (the other service flags, provider
 * flags, message size, ...) are kept from the entry a new one is copied from: a layered entry
 * from the TCP base provider of its family, a chain from the entry directly below it.
 *
 * <p>The 32-bit catalog is reached through the *32 functions, and installs there through a 32-bit
 * process ({@link Catalog32Helper}): each catalog gets exactly its own entries, whatever the other
 * holds, so a half install is completed and a failed change is undone in both.
 */
public final class WindowsCatalog implements CatalogCalls {
  private static final int WSAENOBUFS = 10055;
  private static final int WSAEINVAL = 10022;
  private static final int PATH_CHARS = 260;
  private static final int ENUM_ROUNDS = 4;

  private final Ws2Catalog ws2;
  private final boolean has32BitCatalog;
  private final Catalog32Helper catalog32;
  // The last entries read, by catalog and id: what a new entry copies its other fields from.
  private final Map<CatalogKind, Map<Integer, WsaProtocolInfo>> lastRead = new HashMap<>();

  /**
   * {@code has32BitCatalog}: 64-bit Windows, where the *32 functions exist and {@code catalog32}
   * installs into the 32-bit catalog.
   */
  public WindowsCatalog(Ws2Catalog ws2, boolean has32BitCatalog, Catalog32Helper catalog32) {
    this.ws2 = ws2;
    this.has32BitCatalog = has32BitCatalog;
    this.catalog32 = catalog32;
  }

  @Override
  public List<CatalogEntry> enumerate(CatalogKind catalog) {
    if (catalog == CatalogKind.WOW32 && !has32BitCatalog) {
      return List.of();
    }
    List<WsaProtocolInfo> raw = enumerateRaw(catalog);
    Map<Integer, WsaProtocolInfo> byId = new HashMap<>();
    Map<UUID, String> paths = new HashMap<>();
    List<CatalogEntry> entries = new ArrayList<>();
    for (WsaProtocolInfo info : raw) {
      byId.put(info.dwCatalogEntryId, info);
      UUID guid = uuid(info.ProviderId);
      String path = paths.computeIfAbsent(guid, id -> providerPath(catalog, info.ProviderId));
      entries.add(toEntry(catalog, info, path));
    }
    lastRead.put(catalog, byId);
    return entries;
  }

  @Override
  public int install(CatalogKind catalog, CatalogEntry template, List<Integer> chain) {
    WsaProtocolInfo info = fromTemplate(catalog, template, chain);
    Guid.GUID guid = guid(template.providerId());
    WString path = new WString(template.providerPath());
    IntByReference errno = new IntByReference();
    if (catalog == CatalogKind.NATIVE) {
      check("WSCInstallProvider", ws2.WSCInstallProvider(guid, path, info.getPointer(), 1, errno), errno);
    } else {
      int error = catalog32.install(template.providerId(), template.providerPath(),
          info.getPointer().getByteArray(0, info.size()));
      if (error != 0) {
        throw new CatalogException("WSCInstallProvider in the 32-bit catalog (teardown_catalog32.exe)", error);
      }
    }
    return enumerate(catalog).stream().filter(e -> e.providerId().equals(template.providerId()))
        .mapToInt(CatalogEntry::id).max()
        .orElseThrow(() -> new CatalogException("reading back the entry installed", WSAEINVAL));
  }

  @Override
  public void deinstall(CatalogKind catalog, int id, UUID guid) {
    IntByReference errno = new IntByReference();
    int result = catalog == CatalogKind.NATIVE
        ? ws2.WSCDeinstallProvider(guid(guid), errno)
        : ws2.WSCDeinstallProvider32(guid(guid), errno);
    check(catalog == CatalogKind.NATIVE ? "WSCDeinstallProvider" : "WSCDeinstallProvider32", result, errno);
  }

  @Override
  public void update(CatalogKind catalog, int id, List<Integer> chain) {
    WsaProtocolInfo current = lastRead(catalog, id);
    WsaProtocolInfo info = new WsaProtocolInfo();
    info.copyFrom(current);
    info.ProtocolChain.setEntries(chain.size(), chain);
    info.write();
    Guid.GUID guid = info.ProviderId;
    WString path = new WString(providerPath(catalog, guid));
    IntByReference errno = new IntByReference();
    int result = catalog == CatalogKind.NATIVE
        ? ws2.WSCUpdateProvider(guid, path, info.getPointer(), 1, errno)
        : ws2.WSCUpdateProvider32(guid, path, info.getPointer(), 1, errno);
    check(catalog == CatalogKind.NATIVE ? "WSCUpdateProvider" : "WSCUpdateProvider32", result, errno);
  }

  @Override
  public void writeOrder(CatalogKind catalog, List<Integer> ids) {
    int[] order = ids.stream().mapToInt(Integer::intValue).toArray();
    int error = catalog == CatalogKind.NATIVE
        ? ws2.WSCWriteProviderOrder(order, order.length)
        : ws2.WSCWriteProviderOrder32(order, order.length);
    if (error != 0) {
      throw new CatalogException(
          catalog == CatalogKind.NATIVE ? "WSCWriteProviderOrder" : "WSCWriteProviderOrder32", error);
    }
  }

  @Override
  public void setCategories(CatalogKind catalog, UUID guid, int categories) {
    try (Memory value = new Memory(4)) {
      value.setInt(0, categories);
      IntByReference errno = new IntByReference();
      SIZE_T size = new SIZE_T(4);
      int result = catalog == CatalogKind.NATIVE
          ? ws2.WSCSetProviderInfo(guid(guid), Ws2Catalog.PROVIDER_INFO_LSP_CATEGORIES, value, size, 0, errno)
          : ws2.WSCSetProviderInfo32(guid(guid), Ws2Catalog.PROVIDER_INFO_LSP_CATEGORIES, value, size, 0, errno);
      check(catalog == CatalogKind.NATIVE ? "WSCSetProviderInfo" : "WSCSetProviderInfo32", result, errno);
    }
  }

  // --- Reading ---------------------------------------------------------------------------------

  private List<WsaProtocolInfo> enumerateRaw(CatalogKind catalog) {
    int entrySize = new WsaProtocolInfo().size();
    IntByReference length = new IntByReference(entrySize * 32);
    for (int round = 0; round < ENUM_ROUNDS; round++) {
      try (Memory buffer = new Memory(Math.max(length.getValue(), entrySize))) {
        IntByReference errno = new IntByReference();
        int count = catalog == CatalogKind.NATIVE
            ? ws2.WSCEnumProtocols(null, buffer, length, errno)
            : ws2.WSCEnumProtocols32(null, buffer, length, errno);
        if (count == Ws2Catalog.SOCKET_ERROR) {
          if (errno.getValue() == WSAENOBUFS) {
            continue;  // the catalog grew: length holds what is needed now
          }
          throw new CatalogException(catalog == CatalogKind.NATIVE ? "WSCEnumProtocols" : "WSCEnumProtocols32",
              errno.getValue());
        }
        if (count < 0 || (long) count * entrySize > buffer.size()) {
          throw new CatalogException("WSCEnumProtocols returned an impossible count " + count, WSAEINVAL);
        }
        List<WsaProtocolInfo> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
          WsaProtocolInfo info = new WsaProtocolInfo();
          info.getPointer().write(0, buffer.getByteArray((long) i * entrySize, entrySize), 0, entrySize);
          info.read();
          out.add(info);
        }
        return out;
      }
    }
    throw new CatalogException("WSCEnumProtocols (the catalog kept growing)", WSAENOBUFS);
  }

  private String providerPath(CatalogKind catalog, Guid.GUID guid) {
    char[] path = new char[PATH_CHARS];
    IntByReference length = new IntByReference(PATH_CHARS);
    IntByReference errno = new IntByReference();
    int result = catalog == CatalogKind.NATIVE
        ? ws2.WSCGetProviderPath(guid, path, length, errno)
        : ws2.WSCGetProviderPath32(guid, path, length, errno);
    if (result == Ws2Catalog.SOCKET_ERROR) {
      return "";  // reported by the checker as a provider with no DLL
    }
    int end = 0;
    while (end < path.length && path[end] != 0) {
      end++;
    }
    return new String(path, 0, end);
  }

  /** An entry as the model holds it. */
  static CatalogEntry toEntry(CatalogKind catalog, WsaProtocolInfo info, String path) {
    int length = info.ProtocolChain.ChainLen;
    EntryKind kind = length == 0 ? EntryKind.LAYERED : length == 1 ? EntryKind.BASE : EntryKind.CHAIN;
    return new CatalogEntry(catalog, kind, info.name(), uuid(info.ProviderId), path, info.dwCatalogEntryId,
        info.iVersion, info.iAddressFamily, info.iMaxSockAddr, info.iMinSockAddr, info.iSocketType,
        info.iProtocol, info.dwServiceFlags1, info.ProtocolChain.entries());
  }

  // --- Writing ---------------------------------------------------------------------------------

  /** The WSAPROTOCOL_INFOW to install for {@code template} with these links. */
  WsaProtocolInfo fromTemplate(CatalogKind catalog, CatalogEntry template, List<Integer> chain) {
    WsaProtocolInfo source = sourceOf(catalog, template, chain);
    WsaProtocolInfo info = new WsaProtocolInfo();
    info.copyFrom(source);
    info.dwServiceFlags1 = template.serviceFlags();
    info.ProviderId = guid(template.providerId());
    info.dwCatalogEntryId = 0;
    if (template.kind() == EntryKind.LAYERED) {
      info.ProtocolChain.setEntries(0, List.of());
      info.dwProviderFlags |= WsaProtocolInfo.PFL_HIDDEN;
    } else if (template.kind() == EntryKind.CHAIN) {
      info.ProtocolChain.setEntries(chain.size(), chain);
      info.dwProviderFlags &= ~WsaProtocolInfo.PFL_HIDDEN;
    } else {
      throw new CatalogException("installing a base provider", WSAEINVAL);
    }
    info.iVersion = template.version();
    info.iAddressFamily = template.addressFamily();
    info.iMaxSockAddr = template.maxAddressLength();
    info.iMinSockAddr = template.minAddressLength();
    info.iSocketType = template.socketType();
    info.iProtocol = template.protocol();
    info.setName(template.description());
    info.write();
    return info;
  }

  private WsaProtocolInfo sourceOf(CatalogKind catalog, CatalogEntry template, List<Integer> chain) {
    if (!lastRead.containsKey(catalog)) {
      enumerate(catalog);
    }
    if (template.kind() == EntryKind.CHAIN && chain.size() >= 2) {
      return lastRead(catalog, chain.get(1));
    }
    return lastRead.get(catalog).values().stream()
        .filter(e -> e.ProtocolChain.ChainLen == 1 && e.iAddressFamily == template.addressFamily()
            && e.iSocketType == template.socketType() && e.iProtocol == template.protocol())
        .findFirst()
        .orElseThrow(() -> new CatalogException("no base provider of family " + template.addressFamily()
            + " to copy a layered entry from", WSAEINVAL));
  }

  private WsaProtocolInfo lastRead(CatalogKind catalog, int id) {
    if (!lastRead.containsKey(catalog) || !lastRead.get(catalog).containsKey(id)) {
      enumerate(catalog);
    }
    WsaProtocolInfo info = lastRead.get(catalog).get(id);
    if (info == null) {
      throw new CatalogException("lookup of catalog entry " + id, WSAEINVAL);
    }
    return info;
  }

  private static void check(String call, int result, IntByReference errno) {
    if (result == Ws2Catalog.SOCKET_ERROR) {
      throw new CatalogException(call, errno.getValue());
    }
  }

  static Guid.GUID guid(UUID uuid) {
    return Guid.GUID.fromString("{" + uuid.toString().toUpperCase(Locale.ROOT) + "}");
  }

  static UUID uuid(Guid.GUID guid) {
    String text = guid.toGuidString();
    return UUID.fromString(text.substring(1, text.length() - 1));
  }
}
