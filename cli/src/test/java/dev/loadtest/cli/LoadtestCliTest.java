package dev.loadtest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class LoadtestCliTest {
  @Test
  void everyCommandHasHelp() {
    StringWriter out = new StringWriter();
    CommandLine cli = new CommandLine(new LoadtestCli());
    cli.setOut(new PrintWriter(out, true));
    assertEquals(0, cli.execute("up", "--help"));
    assertTrue(out.toString().contains("--exit"), out.toString());
    out.getBuffer().setLength(0);
    assertEquals(0, cli.execute("--help"));
    assertTrue(out.toString().contains("up"), out.toString());
    for (String command : new String[] {"generator", "coordinator"}) {
      out.getBuffer().setLength(0);
      assertEquals(0, cli.execute(command, "--help"));
      assertTrue(out.toString().contains("--bootstrap"), out.toString());
    }
  }

  @Test
  void anUnknownCommandIsAUsageError() {
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new LoadtestCli());
    cli.setErr(new PrintWriter(err, true));
    assertEquals(2, cli.execute("launch"));
    assertTrue(err.toString().contains("launch"), err.toString());
  }
}
