package dev.teardown.admin;

import dev.teardown.api.InvalidConfigurationException;
import dev.teardown.api.TeardownException;
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
    } else {
      message = e.toString();
    }
    command.getErr().println("teardown: " + message);
    return 1;
  }

  private static String hint(TeardownException.Status status) {
    return switch (status) {
      case NOT_FOUND -> " (no channel yet: run a program under Teardown, or set TEARDOWN_CHANNEL)";
      case ACCESS_DENIED -> " (changing the configuration needs the channel's owner or an administrator)";
      case CORRUPT, VERSION -> " (recreate the channel: remove its directory and start again)";
      default -> "";
    };
  }
}
