package io.qvirt.handler.migration;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qvirt.launcher.migrate.MigrationTarget;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The target's {@link MigrationTarget} as the source handler calls it: each method is one control request to
 * the target handler, which runs it on its QEMU; events come back pushed. Failures are
 * {@link MigrationProxyException}s (a {@link io.qvirt.launcher.migrate.MigrationException}).
 */
final class RemoteMigrationTarget implements MigrationTarget {
    private final ClientSession session;

    RemoteMigrationTarget(ClientSession session) {
        this.session = session;
    }

    @Override
    public void prepare(Map<String, Boolean> capabilities, int multifdChannels, List<String> copyNodes) {
        ObjectNode body = ControlMessage.JSON.createObjectNode();
        ObjectNode caps = body.putObject("capabilities");
        capabilities.forEach(caps::put);
        body.put("multifdChannels", multifdChannels);
        copyNodes.forEach(body.putArray("copyNodes")::add);
        session.call("prepare", body, ClientSession.PREPARE_TIMEOUT);
    }

    @Override
    public void stopExports() {
        session.call("stopExports", ControlMessage.JSON.createObjectNode(), ClientSession.CALL_TIMEOUT);
    }

    @Override
    public String status() {
        JsonNode r = session.call("status", ControlMessage.JSON.createObjectNode(), ClientSession.CALL_TIMEOUT);
        if (r == null || !r.isTextual()) {
            throw new ProxyProtocolException("status on the target: the answer is not a status string");
        }
        return r.asText();
    }

    @Override
    public void cont() {
        session.call("cont", ControlMessage.JSON.createObjectNode(), ClientSession.CALL_TIMEOUT);
    }

    @Override
    public AutoCloseable onMigrationStatus(Consumer<String> status) {
        session.addListener(status);
        return () -> session.removeListener(status);
    }
}
