package dev.loadtest.plugins.gatling;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

/**
 * Gatling's jars (ridden inside this plug-in's jar, {@code gatling-lib/}, unpacked once per JVM), the classpath of
 * the JVM that runs a simulation, and the compiler of simulations (the JDK's).
 */
final class GatlingLib {
  private static Path dir;

  private GatlingLib() {}

  /** Where this plug-in's classes come from: a directory (a build) or its jar. */
  static Path codeSource(Class<?> c) {
    try {
      return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Gatling's jars: the {@code gatling-lib/} resources of the gatling-lib jar, unpacked (or its build's directory). */
  static synchronized Path jars() {
    if (dir != null) {
      return dir;
    }
    // the gatling-lib jar (found by the pom.properties Maven puts in it: a jar's directory entries cannot be
    // relied on), or its build's directory
    ClassLoader loader = GatlingLib.class.getClassLoader();
    java.net.URL url = loader.getResource("META-INF/maven/dev.loadtest/gatling-lib/pom.properties");
    if (url == null) {
      url = loader.getResource("gatling-lib/");
    }
    if (url == null) {
      throw new IllegalStateException("Gatling's jars (dev.loadtest:gatling-lib) are not on the class path");
    }
    try {
      if (url.getProtocol().equals("file")) {
        dir = Path.of(url.toURI());
        if (!dir.getFileName().toString().equals("gatling-lib")) {
          dir = dir.getParent().getParent().getParent().getParent().resolve("gatling-lib"); // META-INF/maven/g/a/x
        }
      } else {
        String jar = url.toString().substring("jar:".length(), url.toString().indexOf("!/"));
        Path out = Files.createTempDirectory("gatling-lib-");
        try (FileSystem fs = FileSystems.newFileSystem(Path.of(new java.net.URI(jar)), Map.of());
             Stream<Path> files = Files.list(fs.getPath("/gatling-lib"))) {
          for (Path f : files.toList()) {
            Path to = out.resolve(f.getFileName().toString());
            try (InputStream in = Files.newInputStream(f)) {
              Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
            }
            to.toFile().deleteOnExit();
          }
        }
        out.toFile().deleteOnExit();
        dir = out;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot unpack Gatling's jars from " + url + ": " + e.getMessage(), e);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
    return dir;
  }

  /** The classpath of a simulation's JVM: Gatling, this plug-in (Main, Scaling), the segments' math, and more. */
  static String classpath(Path... more) {
    List<String> parts = new ArrayList<>();
    try (Stream<Path> files = Files.list(jars())) {
      files.filter(p -> p.toString().endsWith(".jar")).sorted().forEach(p -> parts.add(p.toString()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    parts.add(codeSource(GatlingLib.class).toString());
    parts.add(codeSource(dev.loadtest.schemas.segment.ExecutionSegmentSequence.class).toString());
    for (Path p : more) {
      parts.add(p.toString());
    }
    return String.join(java.io.File.pathSeparator, parts);
  }

  /**
   * Compiles Java sources into {@code out} against Gatling's Java DSL.
   *
   * @return the compiler's errors, each with its line, empty when it compiled
   */
  static List<String> compile(List<Path> sources, Path out) {
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    if (javac == null) {
      return List.of("no Java compiler in this JVM (" + System.getProperty("java.home") + "): run the generator on a"
          + " JDK, not a JRE");
    }
    DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
    try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, Locale.ROOT, null)) {
      boolean ok = javac.getTask(null, files, diagnostics, List.of("-classpath", classpath(), "-d", out.toString(),
          "--release", "21", "-proc:none", "-nowarn"), null, files.getJavaFileObjectsFromPaths(sources)).call();
      List<String> errors = new ArrayList<>();
      for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
        if (d.getKind() == Diagnostic.Kind.ERROR && errors.size() < 5) {
          errors.add((d.getSource() == null ? "" : Path.of(d.getSource().toUri()).getFileName() + ":"
              + d.getLineNumber() + ": ") + d.getMessage(Locale.ROOT).lines().findFirst().orElse(""));
        }
      }
      if (!ok && errors.isEmpty()) {
        errors.add("the simulation does not compile");
      }
      return errors;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
