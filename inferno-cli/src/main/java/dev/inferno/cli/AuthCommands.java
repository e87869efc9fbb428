package dev.inferno.cli;

import dev.inferno.model.AuthRequest;
import dev.inferno.model.AuthResult;
import java.io.Console;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * {@code inferno login} and {@code logout}: the daemon checks the credentials against the registry
 * and keeps them for its pulls; the CLI stores nothing itself.
 */
final class AuthCommands {
  private AuthCommands() {}

  static final class Login implements Verb {
    private final OptionSpec usernameOpt =
        Verb.option(String.class, "username", "user name", "-u", "--username");
    private final OptionSpec passwordOpt =
        Verb.option(
            String.class,
            "password",
            "password (insecure: prefer --password-stdin)",
            "-p",
            "--password");
    private final OptionSpec passwordStdinOpt =
        Verb.flag("read the password from stdin", "--password-stdin");
    private final PositionalParamSpec serverParam =
        Verb.positional("0", "0..1", "SERVER", "registry (default docker.io)");

    @Override
    public CommandSpec spec() {
      return Verb.command(
              this, "login", "Log in to a registry (the daemon checks and keeps the credentials).")
          .addOption(usernameOpt)
          .addOption(passwordOpt)
          .addOption(passwordStdinOpt)
          .addPositional(serverParam);
    }

    @Override
    public int run() throws IOException {
      String username = usernameOpt.getValue();
      String password = passwordOpt.getValue();
      boolean passwordStdin = passwordStdinOpt.getValue();
      String server = serverParam.getValue();
      if (password != null && passwordStdin) {
        throw new CliException("--password and --password-stdin are mutually exclusive");
      }
      if (password != null) {
        System.err.println(
            "WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
      }
      if (passwordStdin) {
        if (username == null || username.isBlank()) {
          throw new CliException("must provide --username with --password-stdin");
        }
        password = stripNewline(new String(System.in.readAllBytes(), StandardCharsets.UTF_8));
      }
      if (username == null || password == null) {
        Console console = System.console();
        if (console == null) {
          throw new CliException(
              "cannot prompt for "
                  + (username == null ? "a user name" : "a password")
                  + ": not a terminal (use -u USER --password-stdin)");
        }
        if (username == null) {
          username = console.readLine("Username: ");
        }
        if (password == null && username != null && !username.isBlank()) {
          char[] pw = console.readPassword("Password: ");
          password = pw == null ? null : new String(pw);
        }
      }
      if (username == null || username.isBlank()) {
        throw new CliException("a non-empty user name is required");
      }
      if (password == null || password.isEmpty()) {
        throw new CliException("a password is required");
      }
      Main.client().call("POST", "/v1/auth", new AuthRequest(server, username.strip(), password));
      System.out.println("Login Succeeded");
      return 0;
    }

    /** What {@code echo pw | inferno login --password-stdin} sends: drop the final newline. */
    static String stripNewline(String s) {
      if (s.endsWith("\r\n")) {
        return s.substring(0, s.length() - 2);
      }
      return s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
    }
  }

  static final class Logout implements Verb {
    private final PositionalParamSpec serverParam =
        Verb.positional("0", "0..1", "SERVER", "registry (default docker.io)");

    @Override
    public CommandSpec spec() {
      return Verb.command(this, "logout", "Log out from a registry (the daemon forgets it).")
          .addPositional(serverParam);
    }

    @Override
    public int run() throws IOException {
      String server = serverParam.getValue();
      AuthResult r =
          Main.client()
              .call(
                  "DELETE",
                  "/v1/auth" + (server == null ? "" : "?server=" + DaemonClient.enc(server)),
                  null,
                  AuthResult.class);
      String name = r.server();
      if ("Not logged in".equals(r.status())) {
        System.out.println("Not logged in to " + name);
      } else {
        System.out.println("Removing login credentials for " + name);
      }
      return 0;
    }
  }
}
