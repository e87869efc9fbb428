package dev.inferno.daemon.docker;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;

/** Docker's image answers (ImageSummary, ImageInspect, pull progress), as dockerd spells them. */
final class ImageShapes {
  private ImageShapes() {}

  /** {@code GET /images/json}; VirtualSize only up to API 1.43 (null: left out). */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Summary(
      String Id,
      String ParentId,
      List<String> RepoTags,
      List<String> RepoDigests,
      long Created,
      long Size,
      long SharedSize,
      Long VirtualSize,
      @JsonInclude(JsonInclude.Include.ALWAYS) Map<String, String> Labels,
      int Containers) {}

  record RootFS(String Type, List<String> Layers) {}

  record GraphDriver(String Name, Map<String, String> Data) {}

  record Metadata(String LastTagTime) {}

  /** {@code GET /images/{name}/json}; VirtualSize only up to API 1.43 (null: left out). */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Inspect(
      String Id,
      List<String> RepoTags,
      List<String> RepoDigests,
      String Parent,
      String Comment,
      String Created,
      String DockerVersion,
      String Author,
      DockerConfig Config,
      String Architecture,
      String Os,
      long Size,
      Long VirtualSize,
      GraphDriver GraphDriver,
      RootFS RootFS,
      Metadata Metadata) {}

  record Untagged(String Untagged) {}

  /** One entry of {@code GET /images/{name}/history}: Tags null below the top, as dockerd. */
  record HistoryItem(
      String Id, long Created, String CreatedBy, List<String> Tags, long Size, String Comment) {}

  record Deleted(String Deleted) {}

  @JsonInclude(JsonInclude.Include.NON_NULL)
  record ProgressDetail(Long current, Long total) {}

  /** One line of a pull's stream. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Progress(String status, String id, ProgressDetail progressDetail) {}

  /** A line of text in a stream (docker load's "Loaded image: …"). */
  record Stream(String stream) {}

  record ErrorDetail(String message) {}

  /** The last line of a pull that failed after its stream began: the CLI exits 1 with it. */
  record StreamError(ErrorDetail errorDetail, String error) {}

  /** X-Registry-Auth, decoded (any field may be missing). */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record RegistryAuth(
      String username,
      String password,
      String auth,
      String email,
      @JsonProperty("serveraddress") String serverAddress,
      @JsonProperty("identitytoken") String identityToken,
      @JsonProperty("registrytoken") String registryToken) {}
}
