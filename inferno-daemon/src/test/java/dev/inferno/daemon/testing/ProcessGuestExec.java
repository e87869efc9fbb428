package dev.inferno.daemon.testing;

import dev.inferno.kiln.exec.ExecProcess;
import dev.inferno.kiln.exec.ExecRequest;
import dev.inferno.kiln.exec.ExecStartException;
import dev.inferno.kiln.exec.GuestExec;
import dev.inferno.kiln.protocol.ExitReport;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * kiln's {@link GuestExec} for the process backend, where the "VM" is a host process: exec sessions
 * run host processes (argv, env, workdir of the request; 127 when the command does not exist, as
 * init reports it), archives are host tar streams of host paths, stat and top answer in the guest's
 * JSON shapes. Resizes are recorded for the tests to check.
 */
final class ProcessGuestExec implements GuestExec {
  private final OutputStream mainStdin;
  private final AtomicInteger sessions = new AtomicInteger();

  /** Every resize, as "main 24x80" or "exec 24x80". */
  final List<String> resizes = new CopyOnWriteArrayList<>();

  ProcessGuestExec(OutputStream mainStdin) {
    this.mainStdin = mainStdin;
  }

  @Override
  public OutputStream mainStdin() {
    return mainStdin;
  }

  @Override
  public void resizeMain(int rows, int cols) {
    resizes.add("main " + rows + "x" + cols);
  }

  private static ExecStartException refused(int code, String why) {
    return new ExecStartException(new ExitReport(code, null, false, 0, 0, why));
  }

  @Override
  public ExecProcess open(ExecRequest request) throws IOException, ExecStartException {
    int session = sessions.incrementAndGet();
    return switch (request) {
      case ExecRequest.Command c -> {
        ProcessBuilder pb = new ProcessBuilder(c.argv());
        pb.environment().clear();
        for (String kv : c.env()) {
          int eq = kv.indexOf('=');
          pb.environment().put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        pb.directory(Path.of(c.workdir() == null ? "/" : c.workdir()).toFile());
        pb.redirectErrorStream(c.tty()); // a terminal is one stream
        if (!c.stdin()) {
          pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        }
        try {
          yield new Proc(session, pb.start(), c.stdin());
        } catch (IOException e) {
          throw refused(
              127, "exec: \"" + c.argv().get(0) + "\": executable file not found in $PATH");
        }
      }
      case ExecRequest.ArchiveGet g -> {
        Path p = Path.of(g.path());
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
          throw refused(1, g.path() + ": no such file or directory");
        }
        Path parent = p.toAbsolutePath().getParent();
        yield new Proc(
            session,
            new ProcessBuilder(
                    "tar", "-C", parent.toString(), "-cf", "-", p.getFileName().toString())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .start(),
            false);
      }
      case ExecRequest.ArchivePut put -> {
        if (!Files.isDirectory(Path.of(put.path()))) {
          throw refused(1, put.path() + ": no such directory");
        }
        yield new Proc(
            session, new ProcessBuilder("tar", "-C", put.path(), "-xf", "-").start(), true);
      }
      case ExecRequest.Stat st -> {
        Path p = Path.of(st.path());
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
          throw refused(1, st.path() + ": no such file or directory");
        }
        long mode = Files.isDirectory(p) ? (1L << 31) | 0755 : 0644;
        yield fixed(
            session,
            "{\"name\":\""
                + p.getFileName()
                + "\",\"size\":"
                + Files.size(p)
                + ",\"mode\":"
                + mode
                + ",\"mtime\":\"2026-12-04T11:50:00Z\",\"linkTarget\":\"\"}");
      }
      case ExecRequest.Top t ->
          fixed(
              session,
              "{\"Titles\":[\"PID\",\"CMD\"],\"Processes\":[[\""
                  + ProcessHandle.current().pid()
                  + "\",\"java\"]]}");
    };
  }

  private Proc fixed(int session, String stdout) throws IOException {
    Process p =
        new ProcessBuilder("printf", "%s", stdout)
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
            .start();
    return new Proc(session, p, false);
  }

  /** One session: two pumps into one queue, the exit once both reached EOF and it was reaped. */
  private final class Proc implements ExecProcess {
    private static final Output END = new Output(0, new byte[0]);
    private final int session;
    private final Process process;
    private final boolean stdin;
    private final LinkedBlockingQueue<Output> queue = new LinkedBlockingQueue<>();
    private final CompletableFuture<ExitReport> exit = new CompletableFuture<>();
    private int ended;

    Proc(int session, Process process, boolean stdin) {
      this.session = session;
      this.process = process;
      this.stdin = stdin;
      List<Thread> pumps = new ArrayList<>();
      pumps.add(Thread.ofVirtual().start(() -> pump(process.getInputStream(), 1)));
      pumps.add(Thread.ofVirtual().start(() -> pump(process.getErrorStream(), 2)));
      Thread.ofVirtual()
          .start(() -> {
            try {
              int code = process.waitFor();
              for (Thread t : pumps) {
                t.join();
              }
              exit.complete(new ExitReport(code, null, false, 1, 2, null));
            } catch (InterruptedException e) {
              exit.completeExceptionally(e);
            }
          });
    }

    private void pump(InputStream in, int stream) {
      byte[] buf = new byte[8192];
      try (in) {
        for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
          queue.add(new Output(stream, Arrays.copyOf(buf, n)));
        }
      } catch (IOException e) {
        // the process is gone
      }
      queue.add(END);
    }

    @Override
    public int session() {
      return session;
    }

    @Override
    public int pid() {
      return (int) process.pid();
    }

    @Override
    public OutputStream stdin() {
      return stdin ? process.getOutputStream() : OutputStream.nullOutputStream();
    }

    @Override
    public Output read() throws InterruptedException {
      while (ended < 2) {
        Output o = queue.take();
        if (o.stream() == 0) { // END
          ended++;
          continue;
        }
        return o;
      }
      return null;
    }

    @Override
    public void resize(int rows, int cols) {
      resizes.add("exec " + rows + "x" + cols);
    }

    @Override
    public void signal(int signal) throws IOException {
      new ProcessBuilder("kill", "-" + signal, String.valueOf(process.pid())).start();
    }

    @Override
    public CompletableFuture<ExitReport> exit() {
      return exit;
    }

    @Override
    public void close() {
      // the pumps keep draining into the queue, which nobody reads: the process never blocks
    }
  }
}
