package dev.inferno.model;

/**
 * Answer of {@code POST /v1/auth} and {@code DELETE /v1/auth}: the registry (normalized, e.g.
 * docker.io) and what happened ("Login Succeeded", "Removed", "Not logged in").
 */
public record AuthResult(String server, String status) {}
