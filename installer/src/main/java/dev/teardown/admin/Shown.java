package dev.teardown.admin;

/**
 * Text that comes from someone else (process and user names from any user's programs, entries of a
 * catalog dump), as the command shows it to a person: every character that would steer a terminal
 * or forge a line (controls, CR and LF, escape sequences, line separators, bidirectional overrides
 * and other invisible format characters, lone surrogates) is written as an escape, and a width
 * bounds it, so that no name can hide a column, push another off a line or print a line of its own.
 */
final class Shown {
  /** Where a bounded text was cut. */
  static final char CUT = '~';

  private Shown() {}

  /** {@code value} with every character a terminal would act on escaped ({@code \x1b}, {@code \u202e}). */
  static String text(String value) {
    return bounded(value, Integer.MAX_VALUE);
  }

  /**
   * {@link #text} of {@code value}, at most {@code width} characters: if longer, cut (never inside
   * an escape) and ended with {@link #CUT}.
   */
  static String bounded(String value, int width) {
    if (value == null) {
      return "-";
    }
    StringBuilder out = new StringBuilder(Math.min(value.length() + 8, 256));
    int shown = 0;
    for (int i = 0; i < value.length(); ) {
      int c = value.codePointAt(i);
      i += Character.charCount(c);
      String piece = !escaped(c) ? null : c <= 0xFF ? String.format("\\x%02x", c) : String.format("\\u%04x", c);
      int length = piece == null ? 1 : piece.length();
      // The last column is the cut's unless this is the last of the value and it fits.
      boolean last = i >= value.length();
      if (shown + length > (last ? width : width - 1)) {
        return out.append(CUT).toString();
      }
      if (piece == null) {
        out.appendCodePoint(c);
      } else {
        out.append(piece);
      }
      shown += length;
    }
    return out.toString();
  }

  /** A process as {@code name[pid]} in at most {@code width} characters: the name is cut, never the pid. */
  static String process(String name, long pid, int width) {
    String id = "[" + pid + "]";
    return bounded(name, Math.max(1, width - id.length())) + id;
  }

  /** Whether a terminal would act on {@code c} rather than show it. */
  static boolean escaped(int c) {
    return switch (Character.getType(c)) {
      case Character.CONTROL, Character.FORMAT, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR,
          Character.SURROGATE, Character.UNASSIGNED -> true;
      default -> false;
    };
  }
}
