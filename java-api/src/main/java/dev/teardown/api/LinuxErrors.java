package dev.teardown.api;

import java.util.Map;

/**
 * Names for the errno values a Linux program sees, which events carry beside the Winsock number
 * ({@link TeardownEvent#osError()}): what the program's own logs say ("EPIPE").
 */
public final class LinuxErrors {
  private static final Map<Integer, String> NAMES =
      Map.ofEntries(
          Map.entry(1, "EPERM"),
          Map.entry(4, "EINTR"),
          Map.entry(5, "EIO"),
          Map.entry(9, "EBADF"),
          Map.entry(11, "EAGAIN"),
          Map.entry(13, "EACCES"),
          Map.entry(14, "EFAULT"),
          Map.entry(22, "EINVAL"),
          Map.entry(32, "EPIPE"),
          Map.entry(88, "ENOTSOCK"),
          Map.entry(90, "EMSGSIZE"),
          Map.entry(92, "ENOPROTOOPT"),
          Map.entry(99, "EADDRNOTAVAIL"),
          Map.entry(100, "ENETDOWN"),
          Map.entry(101, "ENETUNREACH"),
          Map.entry(102, "ENETRESET"),
          Map.entry(103, "ECONNABORTED"),
          Map.entry(104, "ECONNRESET"),
          Map.entry(105, "ENOBUFS"),
          Map.entry(107, "ENOTCONN"),
          Map.entry(108, "ESHUTDOWN"),
          Map.entry(110, "ETIMEDOUT"),
          Map.entry(111, "ECONNREFUSED"),
          Map.entry(112, "EHOSTDOWN"),
          Map.entry(113, "EHOSTUNREACH"),
          Map.entry(115, "EINPROGRESS"));

  private LinuxErrors() {}

  /** "EPIPE" for 32, "0" for none, "errno N" for others. */
  public static String name(int errno) {
    if (errno == 0) {
      return "0";
    }
    String name = NAMES.get(errno);
    return name != null ? name : "errno " + errno;
  }
}
