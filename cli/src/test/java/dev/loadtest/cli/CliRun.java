package dev.loadtest.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** The {@code loadtest} command run in this JVM with its output captured (and echoed for the test log). */
record CliRun(int code, String out, String err) {
  static CliRun of(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = LoadtestCli.commandLine(); // as ./loadtest runs it: failures said in a line
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(args);
    System.out.println(out);
    System.out.println(err);
    return new CliRun(code, out.toString(), err.toString());
  }
}
