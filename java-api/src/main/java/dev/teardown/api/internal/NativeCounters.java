package dev.teardown.api.internal;

import com.sun.jna.Structure;
import com.sun.jna.Structure.FieldOrder;

/** {@code td_counters}. */
@FieldOrder({"produced", "dropped", "per_kind"})
public final class NativeCounters extends Structure {
  /** TD_KIND_SLOTS. */
  public static final int KIND_SLOTS = 16;

  public long produced;
  public long dropped;
  public long[] per_kind = new long[KIND_SLOTS];

  /** The offset of a field, for the layout tests. */
  public int offsetOf(String field) {
    return fieldOffset(field);
  }
}
