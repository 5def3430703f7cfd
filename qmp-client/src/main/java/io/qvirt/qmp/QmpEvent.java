package io.qvirt.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;

/**
 * An asynchronous event, {@code {"event": NAME, "data": {...}, "timestamp": {seconds, microseconds}}}.
 *
 * @param data      the event's data; an empty object when the event has none, never null
 * @param timestamp QEMU's timestamp (host wall clock at emission)
 */
public record QmpEvent(String name, JsonNode data, Instant timestamp) implements QmpMessage {
}
