package dev.teardown.admin.winsock;

import com.sun.jna.Structure;
import com.sun.jna.Structure.FieldOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * WSAPROTOCOLCHAIN (winsock2.h): a chain's length (0 for a layered entry, 1 for a base provider)
 * and its catalog ids, top first.
 */
@FieldOrder({"ChainLen", "ChainEntries"})
public class WsaProtocolChain extends Structure {
  /** MAX_PROTOCOL_CHAIN. */
  public static final int MAX_PROTOCOL_CHAIN = 7;

  public int ChainLen;
  public int[] ChainEntries = new int[MAX_PROTOCOL_CHAIN];

  /** The entries, as far as the length says (bounded by the array, whatever the length holds). */
  public List<Integer> entries() {
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < Math.min(Math.max(ChainLen, 0), MAX_PROTOCOL_CHAIN); i++) {
      out.add(ChainEntries[i]);
    }
    return out;
  }

  /** Sets the chain; a length over MAX_PROTOCOL_CHAIN is refused. */
  public void setEntries(int length, List<Integer> ids) {
    if (ids.size() > MAX_PROTOCOL_CHAIN) {
      throw new IllegalArgumentException("a protocol chain holds at most 7 entries, not " + ids.size());
    }
    ChainLen = length;
    java.util.Arrays.fill(ChainEntries, 0);
    for (int i = 0; i < ids.size(); i++) {
      ChainEntries[i] = ids.get(i);
    }
  }
}
