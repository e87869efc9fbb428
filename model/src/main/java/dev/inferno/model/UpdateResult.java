package dev.inferno.model;

import java.util.List;

/**
 * Answer of {@code POST /v1/vms/{id}/update}: the VM's full id and name, plus warnings for the user
 * (a running VM's new size waits for its next boot).
 */
public record UpdateResult(String id, String name, List<String> warnings) {}
