package dev.teardown.admin.winsock;

import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import com.sun.jna.Structure.FieldOrder;
import com.sun.jna.platform.win32.Guid;

/**
 * WSAPROTOCOL_INFOW (winsock2.h): one catalog entry, 628 bytes on 32- and 64-bit Windows alike.
 * {@code szProtocol} is WCHAR[256], held as {@code short[]} so that the layout is the same on every
 * OS (JNA's {@code char} is 4 bytes where {@code wchar_t} is); {@link #name()} reads it.
 */
@FieldOrder({
  "dwServiceFlags1", "dwServiceFlags2", "dwServiceFlags3", "dwServiceFlags4", "dwProviderFlags",
  "ProviderId", "dwCatalogEntryId", "ProtocolChain", "iVersion", "iAddressFamily", "iMaxSockAddr",
  "iMinSockAddr", "iSocketType", "iProtocol", "iProtocolMaxOffset", "iNetworkByteOrder",
  "iSecurityScheme", "dwMessageSize", "dwProviderReserved", "szProtocol"
})
public class WsaProtocolInfo extends Structure {
  /** WSAPROTOCOL_LEN + 1. */
  public static final int PROTOCOL_NAME_CHARS = 256;
  /** PFL_HIDDEN: the entry is not listed to applications (a layered provider's own entry). */
  public static final int PFL_HIDDEN = 0x4;

  public int dwServiceFlags1;
  public int dwServiceFlags2;
  public int dwServiceFlags3;
  public int dwServiceFlags4;
  public int dwProviderFlags;
  public Guid.GUID ProviderId = new Guid.GUID();
  public int dwCatalogEntryId;
  public WsaProtocolChain ProtocolChain = new WsaProtocolChain();
  public int iVersion;
  public int iAddressFamily;
  public int iMaxSockAddr;
  public int iMinSockAddr;
  public int iSocketType;
  public int iProtocol;
  public int iProtocolMaxOffset;
  public int iNetworkByteOrder;
  public int iSecurityScheme;
  public int dwMessageSize;
  public int dwProviderReserved;
  public short[] szProtocol = new short[PROTOCOL_NAME_CHARS];

  public WsaProtocolInfo() {
    super(ALIGN_DEFAULT);
  }

  /** The entry at {@code memory}, read. */
  public WsaProtocolInfo(Pointer memory) {
    super(memory, ALIGN_DEFAULT);
    read();
  }

  /** szProtocol as a string, up to its terminating null. */
  public String name() {
    StringBuilder out = new StringBuilder();
    for (short unit : szProtocol) {
      if (unit == 0) {
        break;
      }
      out.append((char) unit);
    }
    return out.toString();
  }

  /** Sets szProtocol, cut to fit with its terminating null. */
  public void setName(String name) {
    java.util.Arrays.fill(szProtocol, (short) 0);
    for (int i = 0; i < name.length() && i < PROTOCOL_NAME_CHARS - 1; i++) {
      szProtocol[i] = (short) name.charAt(i);
    }
  }

  /** A copy of every field of {@code other}. */
  public void copyFrom(WsaProtocolInfo other) {
    other.write();
    getPointer().write(0, other.getPointer().getByteArray(0, other.size()), 0, other.size());
    read();
  }
}
