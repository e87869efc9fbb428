package dev.inferno.model;

import java.util.List;

/** Answer of {@code POST /v1/vms}: the new VM's full id and name, plus warnings for the user. */
public record Created(String id, String name, List<String> warnings) {}
