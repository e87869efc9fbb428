package dev.inferno.model;

/**
 * Body of {@code POST /v1/exec/{id}/start}.
 *
 * @param detach run without a stream: the output is discarded ({@code exec -d})
 */
public record ExecStartRequest(Boolean detach) {}
