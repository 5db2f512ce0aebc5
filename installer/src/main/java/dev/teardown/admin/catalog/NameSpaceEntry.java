package dev.teardown.admin.catalog;

import java.util.UUID;

/** A name space provider entry (DNS, NLA, ...), listed but never touched by Teardown. */
public record NameSpaceEntry(String description, UUID providerId, int nameSpace, boolean active, int version) {}
