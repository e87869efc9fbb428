package dev.inferno.model;

/** {@code GET /v1/version}. */
public record VersionInfo(
    String version, String apiVersion, String javaVersion, String os, String arch) {}
