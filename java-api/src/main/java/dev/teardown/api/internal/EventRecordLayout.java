package dev.teardown.api.internal;

/** Byte offsets of {@code td_event_record} and {@code td_address}; checked against C in tests. */
public final class EventRecordLayout {
  public static final int SIZE = 480;
  public static final int SEQUENCE = 0;
  public static final int TIME_NS = 8;
  public static final int SOCKET_ID = 16;
  public static final int PID = 24;
  public static final int KIND = 28;
  public static final int FLAGS = 30;
  public static final int ERROR = 32;
  public static final int PROTOCOL = 36;
  public static final int SOCKET_TYPE = 38;
  public static final int DETAIL = 39;
  public static final int LINGER_SECONDS = 40;
  public static final int CAPTURED_LENGTH = 42;
  public static final int DATA_LENGTH = 44;
  public static final int LOCAL = 48;
  public static final int REMOTE = 72;
  public static final int LIFETIME_NS = 96;
  public static final int BYTES_SENT = 104;
  public static final int BYTES_RECEIVED = 112;
  public static final int FIRST_SHUTDOWN = 120;
  public static final int ENDING = 121;
  public static final int KERNEL_STATE = 122;
  public static final int OS_ERROR = 123;
  public static final int USER = 124;
  public static final int PROCESS_NAME = 128;
  public static final int PROCESS_NAME_SIZE = 64;
  public static final int KERNEL = 192;
  public static final int KERNEL_BYTES_ACKED = KERNEL;
  public static final int KERNEL_BYTES_RECEIVED = KERNEL + 8;
  public static final int KERNEL_UNREAD_BYTES = KERNEL + 16;
  public static final int KERNEL_UNSENT_BYTES = KERNEL + 20;
  public static final int KERNEL_RTT_US = KERNEL + 24;
  public static final int KERNEL_RETRANSMITS = KERNEL + 28;
  public static final int KERNEL_TIMEOUTS = KERNEL + 30;
  public static final int KERNEL_PROBES = KERNEL + 31;
  public static final int KERNEL_SIZE = 32;
  public static final int CAPTURED = 224;
  public static final int CAPTURE_MAX = 256;

  public static final int ADDRESS_SIZE = 24;
  public static final int ADDRESS_FAMILY = 0;
  public static final int ADDRESS_PORT = 2;
  public static final int ADDRESS_SCOPE_ID = 4;
  public static final int ADDRESS_BYTES = 8;

  public static final int FAMILY_NONE = 0;
  public static final int FAMILY_IPV4 = 4;
  public static final int FAMILY_IPV6 = 6;

  private EventRecordLayout() {}
}
