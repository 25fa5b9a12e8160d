package dev.loadtest.generator.http;

/** The generator's version, from the jar's manifest when there is one. */
public final class Version {
  public static final String VERSION = version();

  private Version() {}

  private static String version() {
    String v = Version.class.getPackage().getImplementationVersion();
    return v != null ? v : "0.1.0-SNAPSHOT";
  }
}
