package dev.teardown.admin;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The programs a default install keeps every LSP out of, because they are known to fail when any
 * LSP loads into them: WSL's {@code wsl.exe} (the inbox one in System32, and WSL's own package's
 * in {@code Program Files\WSL}) and its service {@code wslservice.exe} (microsoft/WSL #4177, #9331:
 * "Wsl/Service/0x8007273d" until the program is categorised so). WSL 2 is also Docker Desktop's
 * engine, which fails with it. Each is excluded as {@code teardown exclude} does it; only those on
 * disk, since Windows keys a program's categories by its path.
 */
final class DefaultExclusions {
  private DefaultExclusions() {}

  /** The programs, where this machine would have them. */
  static List<Path> programs(Path systemRoot, Path programFiles) {
    Path wsl = programFiles.resolve("WSL");
    return List.of(systemRoot.resolve("System32").resolve("wsl.exe"), wsl.resolve("wsl.exe"),
        wsl.resolve("wslservice.exe"));
  }

  /**
   * Excludes each of {@code programs} that exists; what each came to, one line each. A program
   * that cannot be excluded is said so, and install goes on: the programs are not Teardown's.
   */
  static List<String> apply(ProgramCategories categories, List<Path> programs) throws IOException {
    List<String> outcomes = new ArrayList<>();
    for (Path program : programs) {
      if (!Files.isRegularFile(program)) {
        continue;
      }
      ProgramCategories.Outcome outcome = categories.exclude(program.toRealPath().toString());
      outcomes.add((outcome.exit() == Installation.DONE ? "excluded: " : "not excluded: ") + outcome.message());
    }
    return outcomes;
  }
}
