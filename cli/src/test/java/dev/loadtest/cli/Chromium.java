package dev.loadtest.cli;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;

/** Headless Chromium (Debian's chromium package) for tests that must see a page rendered. */
final class Chromium {
  private Chromium() {}

  /** The browser binary; fails, saying how to get it, when there is none. */
  static String binary() {
    for (String b : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")) {
      if (Files.isExecutable(Path.of(b))) {
        return b;
      }
    }
    throw new AssertionError("headless Chromium is needed to render the HTML report and is not installed:"
        + " apt-get install -y chromium (./run-tests installs it when it runs as root)");
  }

  /** Renders {@code page} at {@code width x height} and returns the screenshot. */
  static BufferedImage screenshot(Path page, Path png, int width, int height) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(binary(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
        "--no-first-run", "--user-data-dir=" + png.getParent().resolve("chromium-profile"),
        "--window-size=" + width + "," + height, "--screenshot=" + png, page.toUri().toString())
        .redirectErrorStream(true).redirectOutput(png.getParent().resolve("chromium.log").toFile()).start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("chromium did not render " + page + " within 120 s");
    }
    if (p.exitValue() != 0 || !Files.exists(png)) {
      throw new AssertionError("chromium failed (exit " + p.exitValue() + "): "
          + Files.readString(png.getParent().resolve("chromium.log")));
    }
    return ImageIO.read(png.toFile());
  }

  /** Pixels of the image within {@code tolerance} (per channel) of {@code #rrggbb}. */
  static long pixels(BufferedImage img, String color, int tolerance) {
    int rgb = Integer.parseInt(color.substring(1), 16);
    int r0 = rgb >> 16 & 0xff;
    int g0 = rgb >> 8 & 0xff;
    int b0 = rgb & 0xff;
    long n = 0;
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        int p = img.getRGB(x, y);
        if (Math.abs((p >> 16 & 0xff) - r0) <= tolerance && Math.abs((p >> 8 & 0xff) - g0) <= tolerance
            && Math.abs((p & 0xff) - b0) <= tolerance) {
          n++;
        }
      }
    }
    return n;
  }
}
