package dev.teardown.admin;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * What a catalog change tells its user: readable lines as it goes (errors on stderr), or with
 * {@code --json} one object at the end, for scripts.
 */
final class Report {
  private final PrintWriter out;
  private final PrintWriter err;
  private final boolean json;
  private final List<String> notes = new ArrayList<>();
  private String error;
  private Path backup;
  private int changes;

  Report(PrintWriter out, PrintWriter err, boolean json) {
    this.out = out;
    this.err = err;
    this.json = json;
  }

  void note(String line) {
    if (json) {
      notes.add(line);
    } else {
      out.println(line);
    }
  }

  void error(String line) {
    error = line;
    if (!json) {
      err.println(line);
    }
  }

  void backup(Path file) {
    backup = file;
    note("The catalog as it was is saved in " + file);
  }

  void changes(int count) {
    changes = count;
    note(count + " catalog changes made and verified.");
  }

  /** Prints the JSON object when asked for one; returns {@code exit}. */
  int finish(String command, int exit) {
    if (json) {
      out.println("{\"command\":" + EventFormat.quote(command) + ",\"ok\":" + (exit == 0) + ",\"changes\":" + changes
          + ",\"backup\":" + (backup == null ? "null" : EventFormat.quote(backup.toString()))
          + ",\"notes\":[" + notes.stream().map(EventFormat::quote).collect(Collectors.joining(",")) + "]"
          + ",\"error\":" + (error == null ? "null" : EventFormat.quote(error)) + "}");
    }
    out.flush();
    err.flush();
    return exit;
  }
}
