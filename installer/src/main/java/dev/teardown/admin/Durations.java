package dev.teardown.admin;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.TypeConversionException;

/** Durations as people write them on a command line: 500ms, 30s, 15m, 24h, 7d, or ISO-8601. */
final class Durations {
  private static final Pattern SHORT = Pattern.compile("(\\d{1,12})(ms|s|m|h|d)");

  /** The longest duration any option takes: 100 years (a clock's "since" then still makes sense). */
  static final Duration LONGEST = Duration.ofDays(36_500);

  private Durations() {}

  static Duration parse(String text) {
    String trimmed = text.strip();
    Matcher shortForm = SHORT.matcher(trimmed.toLowerCase(Locale.ROOT));
    if (shortForm.matches()) {
      long amount = Long.parseLong(shortForm.group(1));
      return bounded(text, switch (shortForm.group(2)) {
        case "ms" -> Duration.ofMillis(amount);
        case "s" -> Duration.ofSeconds(amount);
        case "m" -> Duration.ofMinutes(amount);
        case "h" -> Duration.ofHours(amount);
        default -> Duration.ofDays(amount);
      });
    }
    try {
      Duration duration = Duration.parse(trimmed.toUpperCase(Locale.ROOT));
      if (!duration.isNegative()) {
        return bounded(text, duration);
      }
    } catch (DateTimeParseException | ArithmeticException e) {
      // said below
    }
    throw new TypeConversionException("'" + text + "' is not a duration: give one such as 500ms,"
        + " 30s, 15m, 24h or 7d, or ISO-8601 such as PT30S");
  }

  /** A duration as this command line takes it back: "7 days", "2h", "30s", "500ms". */
  static String describe(Duration duration) {
    long days = duration.toDays();
    if (days > 0 && duration.equals(Duration.ofDays(days))) {
      return days == 1 ? "1 day" : days + " days";
    }
    if (duration.toNanosPart() % 1_000_000 != 0) {
      return duration.toString();
    }
    long millis = duration.toMillis();
    if (millis % 3_600_000 == 0 && millis > 0) {
      return millis / 3_600_000 + "h";
    }
    if (millis % 60_000 == 0 && millis > 0) {
      return millis / 60_000 + "m";
    }
    return millis % 1000 == 0 ? millis / 1000 + "s" : millis + "ms";
  }

  private static Duration bounded(String text, Duration duration) {
    if (duration.compareTo(LONGEST) > 0) {
      throw new TypeConversionException("'" + text + "' is longer than any duration here can be: at most "
          + LONGEST.toDays() + "d");
    }
    return duration;
  }
}
