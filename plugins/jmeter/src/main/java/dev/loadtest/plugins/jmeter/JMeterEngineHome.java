package dev.loadtest.plugins.jmeter;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import org.apache.jmeter.JMeter;
import org.apache.jmeter.save.SaveService;
import org.apache.jmeter.util.JMeterUtils;
import org.apache.jorphan.collections.HashTree;

/**
 * JMeter's process-wide set-up, done once per JVM: a JMeter home holding the configuration files of
 * {@code ApacheJMeter_config} (JMeter reads them from {@code bin/} under its home), its properties, locale
 * and the reader of {@code .jmx} files. JMeter keeps its properties in one global table: every run of this
 * JVM sees the properties the last prepared run set.
 */
final class JMeterEngineHome {
  static final String VERSION = "5.6";
  private static final List<String> FILES = List.of("jmeter.properties", "saveservice.properties",
      "upgrade.properties", "system.properties", "user.properties");
  private static Path home;

  private JMeterEngineHome() {}

  static synchronized Path init() {
    if (home != null) {
      return home;
    }
    try {
      Path dir = Files.createTempDirectory("jmeter-home");
      Path bin = Files.createDirectories(dir.resolve("bin"));
      for (String f : FILES) {
        try (InputStream in = JMeterEngineHome.class.getResourceAsStream("/bin/" + f)) {
          if (in == null) {
            throw new IllegalStateException("bin/" + f + " is not on the classpath: the jmeter plug-in needs"
                + " org.apache.jmeter:ApacheJMeter_config beside it");
          }
          Files.copy(in, bin.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
        bin.resolve(f).toFile().deleteOnExit();
      }
      bin.toFile().deleteOnExit();
      dir.toFile().deleteOnExit();
      JMeterUtils.setJMeterHome(dir.toString());
      JMeterUtils.loadJMeterProperties(bin.resolve("jmeter.properties").toString());
      JMeterUtils.initLocale();
      SaveService.loadProperties();
      home = dir;
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot set up JMeter's home: " + e.getMessage(), e);
    }
  }

  /** A test plan as JMeter runs it: read, disabled elements removed, replaceable controllers resolved. */
  static HashTree loadTree(Path file) throws IOException {
    init();
    HashTree tree = SaveService.loadTree(file.toFile());
    return tree == null ? null : JMeter.convertSubTree(tree, true);
  }

  static void setProperties(Map<String, String> properties) {
    init();
    properties.forEach(JMeterUtils::setProperty);
  }
}
