package dev.loadtest.topology;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** Base of tests that drive the coordinator topology with its defaults, a fresh driver per test. */
abstract class DriverTest {
  @TempDir
  Path stateDir;
  CoordinatorDriver c;

  @BeforeEach
  void openDriver() {
    c = new CoordinatorDriver(CoordinatorConfig.defaults(), stateDir);
  }

  @AfterEach
  void closeDriver() {
    c.close();
  }
}
