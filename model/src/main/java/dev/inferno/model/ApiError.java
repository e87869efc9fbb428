package dev.inferno.model;

/** Every non-2xx answer's body: one sentence telling the user what went wrong and what to do. */
public record ApiError(String message) {}
