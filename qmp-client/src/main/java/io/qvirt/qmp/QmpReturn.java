package io.qvirt.qmp;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A successful reply, {@code {"return": ..., "id": ...}}.
 *
 * @param id    the echoed id, or null when the reply carries none
 * @param value the returned value (an empty object for commands that return nothing)
 */
public record QmpReturn(JsonNode id, JsonNode value) implements QmpMessage {
}
