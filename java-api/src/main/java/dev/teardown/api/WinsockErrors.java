package dev.teardown.api;

import java.util.Map;

/** Names for the Winsock error numbers that events carry, on every platform. */
public final class WinsockErrors {
  public static final int WSA_OPERATION_ABORTED = 995;
  public static final int WSAEINTR = 10004;
  public static final int WSAEFAULT = 10014;
  public static final int WSAEINVAL = 10022;
  public static final int WSAEWOULDBLOCK = 10035;
  public static final int WSAENOTSOCK = 10038;
  public static final int WSAEMSGSIZE = 10040;
  public static final int WSAENOPROTOOPT = 10042;
  public static final int WSAEACCES = 10013;
  public static final int WSAEADDRNOTAVAIL = 10049;
  public static final int WSAENETDOWN = 10050;
  public static final int WSAENETUNREACH = 10051;
  public static final int WSAENETRESET = 10052;
  public static final int WSAECONNABORTED = 10053;
  public static final int WSAECONNRESET = 10054;
  public static final int WSAENOTCONN = 10057;
  public static final int WSAESHUTDOWN = 10058;
  public static final int WSAETIMEDOUT = 10060;
  public static final int WSAECONNREFUSED = 10061;
  public static final int WSAEHOSTDOWN = 10064;
  public static final int WSAEHOSTUNREACH = 10065;
  public static final int WSAEDISCON = 10101;

  private static final Map<Integer, String> NAMES =
      Map.ofEntries(
          Map.entry(WSA_OPERATION_ABORTED, "WSA_OPERATION_ABORTED"),
          Map.entry(WSAEINTR, "WSAEINTR"),
          Map.entry(WSAEFAULT, "WSAEFAULT"),
          Map.entry(WSAEINVAL, "WSAEINVAL"),
          Map.entry(WSAEWOULDBLOCK, "WSAEWOULDBLOCK"),
          Map.entry(WSAENOTSOCK, "WSAENOTSOCK"),
          Map.entry(WSAEMSGSIZE, "WSAEMSGSIZE"),
          Map.entry(WSAENOPROTOOPT, "WSAENOPROTOOPT"),
          Map.entry(WSAEACCES, "WSAEACCES"),
          Map.entry(WSAEADDRNOTAVAIL, "WSAEADDRNOTAVAIL"),
          Map.entry(WSAENETDOWN, "WSAENETDOWN"),
          Map.entry(WSAENETUNREACH, "WSAENETUNREACH"),
          Map.entry(WSAENETRESET, "WSAENETRESET"),
          Map.entry(WSAECONNABORTED, "WSAECONNABORTED"),
          Map.entry(WSAECONNRESET, "WSAECONNRESET"),
          Map.entry(WSAENOTCONN, "WSAENOTCONN"),
          Map.entry(WSAESHUTDOWN, "WSAESHUTDOWN"),
          Map.entry(WSAETIMEDOUT, "WSAETIMEDOUT"),
          Map.entry(WSAECONNREFUSED, "WSAECONNREFUSED"),
          Map.entry(WSAEHOSTDOWN, "WSAEHOSTDOWN"),
          Map.entry(WSAEHOSTUNREACH, "WSAEHOSTUNREACH"),
          Map.entry(WSAEDISCON, "WSAEDISCON"));

  private WinsockErrors() {}

  /** "WSAECONNRESET" for 10054, "0" for no error, the number itself for others. */
  public static String name(int error) {
    if (error == 0) {
      return "0";
    }
    return NAMES.getOrDefault(error, Integer.toString(error));
  }
}
