package dev.inferno.daemon.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.inferno.daemon.testing.TestDaemon;
import dev.inferno.model.ApiError;
import dev.inferno.model.Created;
import dev.inferno.model.Event;
import dev.inferno.model.ExecCreateRequest;
import dev.inferno.model.ExecDetail;
import dev.inferno.model.ExecStartRequest;
import dev.inferno.model.ExitRecord;
import dev.inferno.model.ImageHistoryEntry;
import dev.inferno.model.ImageSummary;
import dev.inferno.model.Mount;
import dev.inferno.model.NetworkSettings;
import dev.inferno.model.Progress;
import dev.inferno.model.PublishedPort;
import dev.inferno.model.PullRequest;
import dev.inferno.model.RunRequest;
import dev.inferno.model.SystemInfo;
import dev.inferno.model.UpdateRequest;
import dev.inferno.model.UpdateResult;
import dev.inferno.model.VersionInfo;
import dev.inferno.model.VmDetail;
import dev.inferno.model.VmStats;
import dev.inferno.model.VmSummary;
import dev.inferno.model.Volume;
import dev.inferno.model.VolumeCreateRequest;
import dev.inferno.model.VolumePruneResult;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** docs/api.yaml and the server agree: the same routes, and schemas with the records' fields. */
class ApiDocTest {
  @TempDir Path dir;

  static JsonNode doc() throws Exception {
    Path yaml = Path.of(System.getProperty("inferno.root"), "docs", "api.yaml");
    return new ObjectMapper(new YAMLFactory()).readTree(yaml.toFile());
  }

  @Test
  void everyServedRouteIsDocumentedAndEveryDocumentedRouteIsServed() throws Exception {
    Set<String> documented = new TreeSet<>();
    JsonNode paths = doc().get("paths");
    for (var it = paths.properties().iterator(); it.hasNext(); ) {
      var e = it.next();
      for (var m = e.getValue().fieldNames(); m.hasNext(); ) {
        String method = m.next();
        if (Set.of("get", "head", "post", "put", "delete", "patch").contains(method)) {
          documented.add(method.toUpperCase(Locale.ROOT) + " " + e.getKey());
        }
      }
    }
    Set<String> served;
    try (TestDaemon d = new TestDaemon(dir, PeerPolicy.ALLOW_ALL)) {
      served = new TreeSet<>(d.daemon.handler().describe());
    }
    assertThat(served).isEqualTo(documented);
  }

  @Test
  void schemasHaveExactlyTheRecordsFields() throws Exception {
    JsonNode schemas = doc().get("components").get("schemas");
    for (Class<?> c :
        List.of(
            ApiError.class,
            Created.class,
            Event.class,
            ExecCreateRequest.class,
            ExecDetail.class,
            ExecStartRequest.class,
            ExitRecord.class,
            ImageHistoryEntry.class,
            ImageSummary.class,
            NetworkSettings.class,
            PublishedPort.class,
            Progress.class,
            PullRequest.class,
            RunRequest.class,
            SystemInfo.class,
            UpdateRequest.class,
            UpdateResult.class,
            VersionInfo.class,
            VmDetail.class,
            VmSummary.class,
            Mount.class,
            Volume.class,
            VolumeCreateRequest.class,
            VolumePruneResult.class,
            VmStats.class)) {
      String name = c.getSimpleName();
      JsonNode s = schemas.get(name);
      assertThat(s).as("schema " + name).isNotNull();
      Set<String> fields = new HashSet<>();
      s.get("properties").fieldNames().forEachRemaining(fields::add);
      Set<String> components = new HashSet<>();
      Arrays.stream(c.getRecordComponents()).forEach(rc -> components.add(rc.getName()));
      assertThat(fields).as("properties of " + name).isEqualTo(components);
    }
  }
}
