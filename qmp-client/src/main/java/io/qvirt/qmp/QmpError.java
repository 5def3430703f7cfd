package io.qvirt.qmp;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A failed reply, {@code {"error": {"class": ..., "desc": ...}, "id": ...}}.
 *
 * @param id the echoed id, or null when the reply carries none (QEMU answers unparsable input so)
 */
public record QmpError(JsonNode id, String errorClass, String description) implements QmpMessage {
}
