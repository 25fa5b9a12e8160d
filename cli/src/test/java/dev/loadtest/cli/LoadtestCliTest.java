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
  void theHelpListsEachCommandInAWholeSentence() {
    StringWriter out = new StringWriter();
    CommandLine cli = LoadtestCli.commandLine();
    cli.setOut(new PrintWriter(out, true));
    assertEquals(0, cli.execute("--help"));
    String commands = out.toString().substring(out.toString().indexOf("Commands:"));
    for (String line : commands.split("\n(?=  \\S)")) { // one entry: its first line and the indented rest
      String text = line.strip().replaceAll("\\s+", " ");
      if (!text.startsWith("Commands:")) {
        assertTrue(text.endsWith("."), "a description cut mid-sentence: " + text);
      }
    }
  }

  @Test
  void aFailureIsSaidInOneLineWithItsCausesNotAStackTrace() {
    StringWriter err = new StringWriter();
    CommandLine cli = LoadtestCli.commandLine();
    cli.setErr(new PrintWriter(err, true));
    cli.setOut(new PrintWriter(new StringWriter(), true));
    // a query API that is not there: the run cannot be submitted
    int code = cli.execute("run", "examples/quickstart.json", "--api", "http://127.0.0.1:9/api/v1", "--token",
        "write-token-0123456789");
    assertTrue(code != 0, "exit code " + code);
    assertTrue(!err.toString().contains("\tat "), "no stack trace: " + err);
    assertTrue(err.toString().startsWith("loadtest"), err.toString());
    assertEquals("the run could not be sent: Connection refused", LoadtestCli.reason(new IllegalStateException(
        "the run could not be sent", new java.net.ConnectException("Connection refused"))));
    assertEquals("sending failed: Connection refused", LoadtestCli.reason(new IllegalStateException(
        "sending failed: Connection refused", new java.net.ConnectException("Connection refused"))),
        "a cause already said is not said twice");
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
