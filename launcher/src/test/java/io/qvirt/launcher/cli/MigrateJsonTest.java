package io.qvirt.launcher.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qvirt.launcher.migrate.LocalMigration;
import io.qvirt.launcher.migrate.MigrationResult;
import io.qvirt.launcher.plan.HostForward;
import io.qvirt.launcher.plan.RuntimePaths;
import io.qvirt.qmp.MigrationInfo;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code launcher migrate --json}: QEMU's final query-migrate figures and where the VM went, as one object. */
class MigrateJsonTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void printsQemusFiguresAndTheTarget() throws Exception {
        // A source's query-migrate reply after completed, as QEMU 7.2 gives it (fields trimmed).
        JsonNode reply = JSON.readTree("""
                {"status":"completed","setup-time":3,"downtime":27,"total-time":812,
                 "ram":{"total":135090176,"transferred":41234567,"remaining":0,"mbps":1234.5,"dirty-sync-count":4}}""");
        MigrationInfo last = MigrationInfo.from(reply);
        MigrationResult r = new MigrationResult(812, 27, 9, 0, 4, false, last);
        LocalMigration.Outcome o = new LocalMigration.Outcome(r, new RuntimePaths(Path.of("/tmp/b/default/vm1")), 4242,
                4141, List.of(new HostForward("default", null, "tcp", "127.0.0.1", 10022, 22)), "exec");
        JsonNode n = JSON.readTree(MigrateCommand.json(o));
        assertEquals("/tmp/b/default/vm1", n.path("target").asText());
        assertEquals(4242, n.path("targetPid").asLong());
        assertEquals(4141, n.path("sourcePid").asLong());
        assertEquals(812, n.path("totalMs").asLong());
        assertEquals(27, n.path("downtimeMs").asLong());
        assertEquals(9, n.path("startMs").asLong());
        assertEquals(3, n.path("setupMs").asLong());
        assertEquals(4, n.path("passes").asLong());
        assertFalse(n.path("postcopy").asBoolean(true));
        assertEquals(41234567, n.path("ramTransferredBytes").asLong());
        assertEquals(135090176, n.path("ramTotalBytes").asLong());
        assertEquals("tcp 127.0.0.1:10022 -> guest:22 (default)", n.path("forwards").path(0).asText());
        assertEquals(reply, n.path("queryMigrate"));
    }
}
