package io.qvirt.handler.migration;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One JSON line of a control connection: the source's {@link Request}s, the target's {@link Reply}s to them (by
 * id) and its {@link Event}s.
 */
sealed interface ControlMessage {
    /** A control message with its newline is at most this long. */
    int MAX_LINE = 64 * 1024;
    ObjectMapper JSON = new ObjectMapper();

    /** The message as one JSON object. */
    ObjectNode toJson();

    /**
     * {@code {"id":1,"op":"prepare",...}}: an operation of the target, its arguments beside {@code id} and
     * {@code op} in {@code body} (the whole object).
     */
    record Request(long id, String op, ObjectNode body) implements ControlMessage {
        @Override
        public ObjectNode toJson() {
            ObjectNode o = JSON.createObjectNode().put("id", id).put("op", op);
            body.properties().forEach(f -> {
                if (!f.getKey().equals("id") && !f.getKey().equals("op")) {
                    o.set(f.getKey(), f.getValue());
                }
            });
            return o;
        }
    }

    /** {@code {"id":1,"ok":true,"result":...}} or, with {@code error} set, {@code {"id":1,"error":"..."}}. */
    record Reply(long id, JsonNode result, String error) implements ControlMessage {
        static Reply ok(long id, JsonNode result) {
            return new Reply(id, result == null ? NullNode.getInstance() : result, null);
        }

        static Reply failed(long id, String error) {
            return new Reply(id, null, error == null ? "failed" : error);
        }

        @Override
        public ObjectNode toJson() {
            ObjectNode o = JSON.createObjectNode().put("id", id);
            if (error != null) {
                return o.put("error", error);
            }
            o.put("ok", true);
            o.set("result", result == null ? NullNode.getInstance() : result);
            return o;
        }
    }

    /** {@code {"event":"MIGRATION","status":"..."}}: the target QEMU's MIGRATION events, pushed. */
    record Event(String name, String status) implements ControlMessage {
        @Override
        public ObjectNode toJson() {
            return JSON.createObjectNode().put("event", name).put("status", status);
        }
    }

    /**
     * @param line one control line without its newline
     * @throws ProxyProtocolException naming what is wrong
     */
    static ControlMessage parse(String line) {
        JsonNode n;
        try {
            n = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new ProxyProtocolException("control message is not JSON: " + e.getOriginalMessage());
        }
        if (n == null || !n.isObject()) {
            throw new ProxyProtocolException("control message is not a JSON object");
        }
        ObjectNode o = (ObjectNode) n;
        if (o.has("event")) {
            if (!o.get("event").isTextual() || !o.path("status").isTextual()) {
                throw new ProxyProtocolException("control event: event and status must be strings");
            }
            return new Event(o.get("event").asText(), o.get("status").asText());
        }
        if (!o.path("id").canConvertToExactIntegral() || !o.path("id").canConvertToLong()) {
            throw new ProxyProtocolException("control message: id must be an integer (or the message an event)");
        }
        long id = o.get("id").asLong();
        if (o.has("op")) {
            if (!o.get("op").isTextual()) {
                throw new ProxyProtocolException("control request " + id + ": op must be a string");
            }
            return new Request(id, o.get("op").asText(), o);
        }
        if (o.has("error")) {
            return Reply.failed(id, o.get("error").asText());
        }
        if (o.path("ok").asBoolean(false)) {
            return Reply.ok(id, o.get("result"));
        }
        throw new ProxyProtocolException("control message " + id + " is neither a request (op), a reply (ok, error) "
                + "nor an event");
    }
}
