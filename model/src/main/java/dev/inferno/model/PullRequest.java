package dev.inferno.model;

/** Body of {@code POST /v1/images/pull}. */
public record PullRequest(String reference, String platform) {}
