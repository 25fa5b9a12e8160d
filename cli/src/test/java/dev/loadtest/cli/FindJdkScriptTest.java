package dev.loadtest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** .mvn/find-jdk.sh, which ./mvnw, ./loadtest and ./run-tests source, tried on fake JDKs. */
class FindJdkScriptTest {
  private static final Path SCRIPT = Path.of("..", ".mvn", "find-jdk.sh").toAbsolutePath().normalize();

  @TempDir
  Path tmp;

  @Test
  void picksTheNewestJdkOf21OrMoreWhenJavaHomeIsTooOld() throws Exception {
    Path jdk17 = fakeJdk("jdk17", 17);
    fakeJdk("jdk22", 22);
    Path jdk24 = fakeJdk("jdk24", 24);
    Result r = run(Map.of("JAVA_HOME", jdk17.toString(), "LOADTEST_JDK_DIRS", tmp + "/jdk*"));
    assertEquals(0, r.code, r.output);
    assertEquals(jdk24.toString(), r.output.strip());
  }

  @Test
  void keepsAJavaHomeThatIsNewEnough() throws Exception {
    Path jdk21 = fakeJdk("jdk21", 21);
    fakeJdk("jdk25", 25);
    Result r = run(Map.of("JAVA_HOME", jdk21.toString(), "LOADTEST_JDK_DIRS", tmp + "/jdk*"));
    assertEquals(jdk21.toString(), r.output.strip());
  }

  @Test
  void saysWhatToInstallWhenNoJdkIsNewEnough() throws Exception {
    fakeJdk("jdk17", 17);
    Result r = run(Map.of("LOADTEST_JDK_DIRS", tmp + "/jdk*"));
    assertEquals(1, r.code, r.output);
    assertTrue(r.output.contains("no JDK 21 or newer found") && r.output.contains("apt-get install"), r.output);
  }

  private record Result(int code, String output) {}

  /** Runs the script with only the given variables and a PATH that holds the tools it needs but no java. */
  private Result run(Map<String, String> env) throws IOException, InterruptedException {
    Path tools = Files.createDirectories(tmp.resolve("tools"));
    for (String tool : List.of("sed", "head", "dirname", "readlink")) {
      for (String dir : List.of("/usr/bin/", "/bin/")) {
        if (Files.isExecutable(Path.of(dir + tool)) && !Files.exists(tools.resolve(tool))) {
          Files.createSymbolicLink(tools.resolve(tool), Path.of(dir + tool));
        }
      }
    }
    ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", ". \"$0\" && echo \"$JAVA_HOME\"", SCRIPT.toString())
        .redirectErrorStream(true);
    pb.environment().clear();
    pb.environment().put("PATH", tools.toString());
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    return new Result(p.exitValue(), out);
  }

  /** A directory with bin/java printing the given feature release, as `java -XshowSettings` does, and a bin/javac. */
  private Path fakeJdk(String name, int feature) throws IOException {
    Path bin = Files.createDirectories(tmp.resolve(name).resolve("bin"));
    Files.writeString(bin.resolve("java"), "#!/bin/sh\necho '    java.specification.version = " + feature + "'\n");
    Files.writeString(bin.resolve("javac"), "#!/bin/sh\nexit 0\n");
    for (String f : List.of("java", "javac")) {
      Files.setPosixFilePermissions(bin.resolve(f), PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    return tmp.resolve(name);
  }
}
