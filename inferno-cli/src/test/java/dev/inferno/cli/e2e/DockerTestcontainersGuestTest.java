package dev.inferno.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Testcontainers for Java, unchanged, drives a microVM through the daemon's Docker socket (issue
 * 13): a GenericContainer running busybox httpd with an exposed port and the default wait strategy,
 * getMappedPort + an HTTP GET, getLogs, execInContainer, copyFileToContainer, stop. Ryuk is off: it
 * would mount the docker socket into a container, which a VM cannot have (docs/docker-api.md).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DockerTestcontainersGuestTest {

  @TempDir static Path dir;
  Inferno inferno;

  @BeforeAll
  void start() throws Exception {
    inferno =
        Inferno.startGuests(
            dir,
            "network-table = inferno_dk_t\nnetwork-tap-prefix = idt\n"
                + "network-pool = 10.244.0.0/16\n");
    inferno.loadBusybox("busybox:1.36");
  }

  @AfterAll
  void stop() throws Exception {
    if (inferno != null) {
      inferno.removeAllAndClose();
    }
  }

  @Test
  void aGenericContainerServesPublishesLogsExecsCopiesAndStops() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String cp =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    List<String> cmd =
        new ArrayList<>(
            List.of(java, "-cp", cp, TestcontainersScenario.class.getName(), "busybox:1.36"));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("DOCKER_HOST", "unix://" + inferno.dockerSocket());
    pb.environment().put("TESTCONTAINERS_RYUK_DISABLED", "true");
    // where a published port is reached. Testcontainers asks only when it runs in a container
    // itself
    // (/.dockerenv, as on the CI machines): then it looks up Docker's "bridge" network's gateway,
    // which inferno does not have (each VM has its own TAP). Its documented override says what is
    // true here: the daemon publishes ports on this machine (docs/docker-api.md)
    pb.environment().put("TESTCONTAINERS_HOST_OVERRIDE", "localhost");
    // no user's ~/.testcontainers.properties or docker config decides for this run
    pb.environment().put("HOME", dir.resolve("home").toString());
    pb.environment().remove("DOCKER_CONTEXT");
    pb.environment().remove("DOCKER_API_VERSION");
    Inferno.Result r = Inferno.finish(pb.start(), 300);
    assertThat(r.code()).as("%s\ndaemon log:\n%s", r, tail(inferno.daemonLog())).isZero();
    assertThat(r.out())
        .contains(
            "ok: GET / through the mapped port",
            "ok: getLogs",
            "ok: execInContainer",
            "ok: copyFileToContainer",
            "ok: stop");

    // stop() removes the container (Testcontainers' own clean-up, with Ryuk off): no VM is left
    Inferno.Result ps = inferno.run("ps", "-a", "-q");
    assertThat(ps.out().strip()).as(ps.toString()).isEmpty();
  }

  private static String tail(String log) {
    return log.length() > 6000 ? log.substring(log.length() - 6000) : log;
  }
}
