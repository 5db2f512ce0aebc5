package dev.teardown.admin;

import dev.teardown.admin.catalog.CatalogCalls;
import dev.teardown.api.InvalidConfigurationException;
import dev.teardown.api.TeardownException;
import dev.teardown.history.HistoryException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/** Failures become one clear line on stderr and exit code 1, not a stack trace. */
final class ErrorHandler implements IExecutionExceptionHandler {
  @Override
  public int handleExecutionException(Exception e, CommandLine command, ParseResult parsed) {
    String message;
    if (e instanceof TeardownException t) {
      message = t.getMessage() + hint(t.status());
    } else if (e instanceof InvalidConfigurationException i) {
      message = "invalid configuration: " + i.getMessage();
    } else if (e instanceof HistoryException h) {
      message = h.getMessage();  // the database file, and what is wrong with it
    } else if (e instanceof ChannelOption.Missing m) {
      message = m.getMessage();  // each place looked at, and how to make the channel
    } else if (e instanceof CatalogCalls.CatalogException c) {
      message = c.getMessage();  // the Winsock call and its error, as ws2_32 gave it
    } else {
      message = e.toString();
    }
    command.getErr().println("teardown: " + message);
    return 1;
  }

  private static String hint(TeardownException.Status status) {
    return switch (status) {
      case NOT_FOUND -> " (no channel yet: an administrator makes the system channel with"
          + " `teardown init` (Linux) or `teardown install` (Windows); `teardown init` as yourself"
          + " makes your private one; or set TEARDOWN_CHANNEL)";
      case ACCESS_DENIED -> " (the system channel and its configuration are an administrator's;"
          + " a name someone else made is never used)";
      case CORRUPT, VERSION -> " (the configuration is damaged: `teardown init` repairs it)";
      default -> "";
    };
  }
}
