package dev.teardown.windows;

import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;

/**
 * Says on the console why a class of the suite did not run ("skipped: SeedRulesOnWindowsTest:
 * Disabled on operating system: Linux ==> needs real Windows ..."), where surefire alone prints only
 * a count. Registered in META-INF/services.
 */
public final class SkippedSuiteReport implements TestExecutionListener {
  @Override
  public void executionSkipped(TestIdentifier test, String reason) {
    System.out.println("skipped: " + test.getDisplayName() + ": " + reason);
  }
}
