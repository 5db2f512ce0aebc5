package dev.teardown.admin.winsock;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.WString;
import com.sun.jna.platform.win32.BaseTSD.SIZE_T;
import com.sun.jna.platform.win32.Guid;
import com.sun.jna.ptr.IntByReference;
import dev.teardown.admin.catalog.Catalog;
import dev.teardown.admin.catalog.CatalogEntry;
import dev.teardown.admin.catalog.CatalogEntry.CatalogKind;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * ws2_32's catalog functions over two lists of WSAPROTOCOL_INFOW held as bytes, answering as the
 * documentation says: buffer sizes and WSAENOBUFS, ids given at install, SOCKET_ERROR with the
 * error in errno, WSCWriteProviderOrder returning its error; and, as the 32-bit helper process,
 * WSCInstallProvider in the 32-bit catalog only. A chosen changing call can be made to fail.
 */
public final class FakeWs2 implements Ws2Catalog, Catalog32Helper {
  static final int SIZE = new WsaProtocolInfo().size();
  private static final int WSAEINVAL = 10022;
  private static final int WSAENOBUFS = 10055;
  private static final int WSANO_RECOVERY = 11003;

  final Map<CatalogKind, List<byte[]>> catalogs = new EnumMap<>(CatalogKind.class);
  final Map<CatalogKind, Map<UUID, String>> paths = new EnumMap<>(CatalogKind.class);
  final Map<UUID, Integer> categories = new HashMap<>();
  public int failAtChangingCall = -1;
  public boolean keepFailing;  // every changing call from failAtChangingCall on fails, the restore's too
  private int changingCalls;
  private int nextId = 5000;

  /** A fake holding {@code catalog}; the fields the model leaves out get values of their own. */
  public FakeWs2(Catalog catalog) {
    for (CatalogKind kind : CatalogKind.values()) {
      List<byte[]> entries = new ArrayList<>();
      Map<UUID, String> byGuid = new HashMap<>();
      for (CatalogEntry entry : catalog.entries(kind)) {
        entries.add(bytes(entry));
        byGuid.put(entry.providerId(), entry.providerPath());
      }
      catalogs.put(kind, entries);
      paths.put(kind, byGuid);
    }
  }

  static byte[] bytes(CatalogEntry entry) {
    WsaProtocolInfo info = new WsaProtocolInfo();
    info.dwServiceFlags1 = entry.serviceFlags();
    info.dwServiceFlags2 = entry.id() * 3;  // unmodelled: must be carried into copies
    info.dwProviderFlags = entry.kind() == CatalogEntry.EntryKind.LAYERED ? WsaProtocolInfo.PFL_HIDDEN : 0x8;
    info.ProviderId = WindowsCatalog.guid(entry.providerId());
    info.dwCatalogEntryId = entry.id();
    int length = entry.kind() == CatalogEntry.EntryKind.LAYERED ? 0 : entry.chain().size();
    info.ProtocolChain.setEntries(length, entry.chain());
    info.iVersion = entry.version();
    info.iAddressFamily = entry.addressFamily();
    info.iMaxSockAddr = entry.maxAddressLength();
    info.iMinSockAddr = entry.minAddressLength();
    info.iSocketType = entry.socketType();
    info.iProtocol = entry.protocol();
    info.dwMessageSize = 0x7FFF0000 + entry.id();
    info.setName(entry.description());
    info.write();
    return info.getPointer().getByteArray(0, SIZE);
  }

  static WsaProtocolInfo info(byte[] bytes) {
    WsaProtocolInfo info = new WsaProtocolInfo();
    info.getPointer().write(0, bytes, 0, SIZE);
    info.read();
    return info;
  }

  List<WsaProtocolInfo> infos(CatalogKind kind) {
    return catalogs.get(kind).stream().map(FakeWs2::info).toList();
  }

  /** The changing calls made so far (the index the next one has for failAtChangingCall). */
  public int changingCalls() {
    return changingCalls;
  }

  private boolean failsNow() {
    int call = changingCalls++;
    return failAtChangingCall >= 0 && (keepFailing ? call >= failAtChangingCall : call == failAtChangingCall);
  }

  private int enumerate(CatalogKind kind, Pointer buffer, IntByReference length, IntByReference errno) {
    List<byte[]> entries = catalogs.get(kind);
    int needed = entries.size() * SIZE;
    if (buffer == null || length.getValue() < needed) {
      length.setValue(needed);
      errno.setValue(WSAENOBUFS);
      return SOCKET_ERROR;
    }
    for (int i = 0; i < entries.size(); i++) {
      buffer.write((long) i * SIZE, entries.get(i), 0, SIZE);
    }
    return entries.size();
  }

  private int fail(IntByReference errno, int error) {
    errno.setValue(error);
    return SOCKET_ERROR;
  }

  private boolean holds(CatalogKind kind, UUID guid) {
    return infos(kind).stream().anyMatch(i -> WindowsCatalog.uuid(i.ProviderId).equals(guid));
  }

  private void add(CatalogKind kind, Pointer entry, UUID guid, String path) {
    WsaProtocolInfo info = new WsaProtocolInfo(entry);
    info.dwCatalogEntryId = ++nextId;
    if (info.ProtocolChain.ChainLen == 1) {
      info.ProtocolChain.ChainEntries[0] = info.dwCatalogEntryId;
    }
    info.write();
    catalogs.get(kind).add(info.getPointer().getByteArray(0, SIZE));
    paths.get(kind).put(guid, path);
  }

  private int install(List<CatalogKind> kinds, Guid.GUID id, WString path, Pointer list, int count,
      IntByReference errno) {
    if (failsNow()) {
      return fail(errno, WSAENOBUFS);
    }
    UUID guid = WindowsCatalog.uuid(id);
    if (count != 1 || kinds.stream().anyMatch(k -> holds(k, guid))) {
      return fail(errno, WSANO_RECOVERY);  // "the provider is already installed"
    }
    for (CatalogKind kind : kinds) {
      add(kind, list, guid, path.toString());
    }
    return 0;
  }

  private int deinstall(CatalogKind kind, Guid.GUID id, IntByReference errno) {
    if (failsNow()) {
      return fail(errno, WSAENOBUFS);
    }
    UUID guid = WindowsCatalog.uuid(id);
    if (!catalogs.get(kind).removeIf(b -> WindowsCatalog.uuid(info(b).ProviderId).equals(guid))) {
      return fail(errno, WSAEINVAL);
    }
    return 0;
  }

  private int update(CatalogKind kind, Guid.GUID id, Pointer list, int count, IntByReference errno) {
    if (failsNow()) {
      return fail(errno, WSAENOBUFS);
    }
    UUID guid = WindowsCatalog.uuid(id);
    List<byte[]> entries = catalogs.get(kind);
    for (int i = 0; i < entries.size(); i++) {
      WsaProtocolInfo old = info(entries.get(i));
      if (count == 1 && WindowsCatalog.uuid(old.ProviderId).equals(guid)) {
        WsaProtocolInfo fresh = new WsaProtocolInfo(list);
        fresh.dwCatalogEntryId = old.dwCatalogEntryId;
        fresh.write();
        entries.set(i, fresh.getPointer().getByteArray(0, SIZE));
        return 0;
      }
    }
    return fail(errno, WSAEINVAL);
  }

  private int writeOrder(CatalogKind kind, int[] ids, int count) {
    if (failsNow()) {
      return WSAENOBUFS;
    }
    List<byte[]> entries = catalogs.get(kind);
    if (count != entries.size()) {
      return WSAEINVAL;
    }
    List<byte[]> ordered = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int id = ids[i];
      byte[] entry = entries.stream().filter(b -> info(b).dwCatalogEntryId == id).findFirst().orElse(null);
      if (entry == null || ordered.contains(entry)) {
        return WSAEINVAL;
      }
      ordered.add(entry);
    }
    entries.clear();
    entries.addAll(ordered);
    return 0;
  }

  private int path(CatalogKind kind, Guid.GUID id, char[] path, IntByReference length, IntByReference errno) {
    String found = paths.get(kind).get(WindowsCatalog.uuid(id));
    if (found == null) {
      return fail(errno, WSAEINVAL);
    }
    if (length.getValue() <= found.length()) {
      length.setValue(found.length() + 1);
      return fail(errno, 10014);  // WSAEFAULT
    }
    found.getChars(0, found.length(), path, 0);
    path[found.length()] = 0;
    return 0;
  }

  private int setInfo(Guid.GUID id, int type, Pointer info, SIZE_T size, IntByReference errno) {
    if (failsNow()) {
      return fail(errno, WSAENOBUFS);
    }
    if (type != PROVIDER_INFO_LSP_CATEGORIES || size.intValue() != 4) {
      return fail(errno, WSAEINVAL);
    }
    categories.put(WindowsCatalog.uuid(id), info.getInt(0));
    return 0;
  }

  @Override
  public int WSCEnumProtocols(int[] protocols, Pointer buffer, IntByReference length, IntByReference errno) {
    return enumerate(CatalogKind.NATIVE, buffer, length, errno);
  }

  @Override
  public int WSCEnumProtocols32(int[] protocols, Pointer buffer, IntByReference length, IntByReference errno) {
    return enumerate(CatalogKind.WOW32, buffer, length, errno);
  }

  @Override
  public int WSCInstallProvider(Guid.GUID id, WString path, Pointer list, int count, IntByReference errno) {
    return install(List.of(CatalogKind.NATIVE), id, path, list, count, errno);
  }

  /** The 32-bit helper: one WSAPROTOCOL_INFOW's bytes, into the 32-bit catalog only. */
  @Override
  public int install(UUID provider, String dllPath, byte[] protocolInfo) {
    if (protocolInfo.length != SIZE) {
      return WSAEINVAL;
    }
    try (Memory entry = new Memory(SIZE)) {
      entry.write(0, protocolInfo, 0, SIZE);
      IntByReference errno = new IntByReference();
      int result = install(List.of(CatalogKind.WOW32), WindowsCatalog.guid(provider),
          new WString(dllPath), entry, 1, errno);
      return result == 0 ? 0 : errno.getValue();
    }
  }

  /** The binding over this fake: 64-bit Windows, the fake as its 32-bit helper too. */
  public WindowsCatalog catalog() {
    return new WindowsCatalog(this, true, this);
  }

  @Override
  public int WSCDeinstallProvider(Guid.GUID id, IntByReference errno) {
    return deinstall(CatalogKind.NATIVE, id, errno);
  }

  @Override
  public int WSCDeinstallProvider32(Guid.GUID id, IntByReference errno) {
    return deinstall(CatalogKind.WOW32, id, errno);
  }

  @Override
  public int WSCUpdateProvider(Guid.GUID id, WString path, Pointer list, int count, IntByReference errno) {
    return update(CatalogKind.NATIVE, id, list, count, errno);
  }

  @Override
  public int WSCUpdateProvider32(Guid.GUID id, WString path, Pointer list, int count, IntByReference errno) {
    return update(CatalogKind.WOW32, id, list, count, errno);
  }

  @Override
  public int WSCWriteProviderOrder(int[] ids, int count) {
    return writeOrder(CatalogKind.NATIVE, ids, count);
  }

  @Override
  public int WSCWriteProviderOrder32(int[] ids, int count) {
    return writeOrder(CatalogKind.WOW32, ids, count);
  }

  @Override
  public int WSCGetProviderPath(Guid.GUID id, char[] path, IntByReference length, IntByReference errno) {
    return path(CatalogKind.NATIVE, id, path, length, errno);
  }

  @Override
  public int WSCGetProviderPath32(Guid.GUID id, char[] path, IntByReference length, IntByReference errno) {
    return path(CatalogKind.WOW32, id, path, length, errno);
  }

  @Override
  public int WSCSetProviderInfo(Guid.GUID id, int type, Pointer info, SIZE_T size, int flags,
      IntByReference errno) {
    return setInfo(id, type, info, size, errno);
  }

  @Override
  public int WSCSetProviderInfo32(Guid.GUID id, int type, Pointer info, SIZE_T size, int flags,
      IntByReference errno) {
    return setInfo(id, type, info, size, errno);
  }

  /** As WSCSetProviderInfo(LspCategories) leaves a provider: what WSCGetProviderInfo reads. */
  public void setCategories(UUID provider, int lspCategories) {
    categories.put(provider, lspCategories);
  }

  /** Programs' permitted LSP categories, by path as given (Winsock ignores case). */
  public final Map<String, Integer> applications = new HashMap<>();

  @Override
  public int WSCSetApplicationCategory(WString path, int pathLength, WString extra, int extraLength,
      int categories, IntByReference previous, IntByReference errno) {
    if (path == null || pathLength != path.length() || extra != null || extraLength != 0) {
      return fail(errno, WSAEINVAL);
    }
    String key = path.toString().toLowerCase(java.util.Locale.ROOT);
    int before = applications.getOrDefault(key, 0);
    previous.setValue(before);
    applications.put(key, before | categories);  // "the categories are ORed together"
    return 0;
  }

  @Override
  public int WSCGetApplicationCategory(WString path, int pathLength, WString extra, int extraLength,
      IntByReference categories, IntByReference errno) {
    Integer found = applications.get(path.toString().toLowerCase(java.util.Locale.ROOT));
    if (found == null) {
      return fail(errno, WSASERVICE_NOT_FOUND);
    }
    categories.setValue(found);
    return 0;
  }

  @Override
  public int WSCGetProviderInfo(Guid.GUID id, int type, Pointer info, Pointer size, int flags,
      IntByReference errno) {
    Integer found = categories.get(WindowsCatalog.uuid(id));
    if (type != PROVIDER_INFO_LSP_CATEGORIES || found == null) {
      return fail(errno, WSAEINVAL);
    }
    info.setInt(0, found);
    return 0;
  }

  /** A copy of every catalog's bytes, in order. */
  public Map<CatalogKind, List<String>> snapshot() {
    Map<CatalogKind, List<String>> out = new EnumMap<>(CatalogKind.class);
    for (CatalogKind kind : CatalogKind.values()) {
      out.put(kind, catalogs.get(kind).stream().map(java.util.HexFormat.of()::formatHex).toList());
    }
    return out;
  }
}
