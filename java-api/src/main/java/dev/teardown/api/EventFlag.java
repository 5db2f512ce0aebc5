package dev.teardown.api;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** Circumstances of an event, beyond its kind. */
public enum EventFlag {
  /** An abortive close that the abortive-to-graceful policy performed gracefully. */
  CONVERTED(0x1),
  /** The socket was non-blocking when the call was made. */
  NON_BLOCKING(0x2),
  /** Closed with received data unread: the stack resets the connection, whatever lingers. */
  UNREAD_DATA(0x4),
  /** Other handles (dup, fork, inheritance) may keep the connection open after this close. */
  SHARED(0x8),
  /** Closed by the process's exit rather than by a call. */
  AT_EXIT(0x10),
  /**
   * Disconnect-data emulation: the peer's stream was not framed as agreed, and the layer reset
   * the connection (see {@link TeardownEvent#framingError()}).
   */
  FRAMING(0x20),
  /**
   * Windows: closed by the program's last {@code WSACleanup}, which closes every socket still
   * open, rather than by {@code closesocket}.
   */
  CLEANUP(0x40);

  private static final int ALL_BITS = 0x7F;
  private static final EventFlag[] ALL = values();
  private static final List<Set<EventFlag>> SETS = buildSets();

  private final int bit;

  EventFlag(int bit) {
    this.bit = bit;
  }

  /** The flag's bit in the native event record. */
  public int bit() {
    return bit;
  }

  /** The flags set in {@code bits} (unknown bits ignored); shared, immutable sets. */
  public static Set<EventFlag> fromBits(int bits) {
    return SETS.get(bits & ALL_BITS);
  }

  /** The native bits of {@code flags}. */
  public static int toBits(Set<EventFlag> flags) {
    // By asking the set, not iterating it: no iterator is made (every event decoded comes here).
    int bits = 0;
    if (!flags.isEmpty()) {
      for (EventFlag flag : ALL) {
        if (flags.contains(flag)) {
          bits |= flag.bit;
        }
      }
    }
    return bits;
  }

  private static List<Set<EventFlag>> buildSets() {
    List<Set<EventFlag>> sets = new ArrayList<>(ALL_BITS + 1);
    for (int bits = 0; bits <= ALL_BITS; bits++) {
      EnumSet<EventFlag> set = EnumSet.noneOf(EventFlag.class);
      for (EventFlag flag : values()) {
        if ((bits & flag.bit) != 0) {
          set.add(flag);
        }
      }
      sets.add(Collections.unmodifiableSet(set));
    }
    return List.copyOf(sets);
  }
}
