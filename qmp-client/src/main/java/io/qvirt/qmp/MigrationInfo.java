package io.qvirt.qmp;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * {@code query-migrate}: the state of this QEMU's outgoing (or incoming) migration. Figures QEMU has not
 * reported yet (before {@code active}, or after {@code completed} for {@code expected-downtime}) are -1.
 *
 * @param status             QEMU's MigrationStatus: {@code none}, {@code setup}, {@code active},
 *                           {@code pre-switchover}, {@code device}, {@code postcopy-active}, {@code completed},
 *                           {@code failed}, {@code cancelling}, {@code cancelled}, ...
 * @param ramTransferred     bytes of RAM sent so far
 * @param ramRemaining       bytes of RAM still to send in this pass
 * @param ramTotal           the guest's RAM in bytes
 * @param mbps               throughput of the last interval, megabits per second
 * @param dirtySyncCount     how many passes over dirty memory have started (1 = first full copy)
 * @param expectedDowntimeMs QEMU's estimate of the stop-and-copy phase
 * @param downtimeMs         the real downtime, once completed
 * @param totalTimeMs        time since the migration started (or its total once completed)
 * @param setupTimeMs        time spent in setup
 * @param errorDesc          why it failed, or null
 * @param raw                the whole reply, for fields not mapped here
 */
public record MigrationInfo(String status, long ramTransferred, long ramRemaining, long ramTotal, double mbps,
                            long dirtySyncCount, long expectedDowntimeMs, long downtimeMs, long totalTimeMs,
                            long setupTimeMs, String errorDesc, JsonNode raw) {
    /** Parses a {@code query-migrate} reply; an empty reply (no migration ever) has status {@code none}. */
    public static MigrationInfo from(JsonNode r) {
        JsonNode ram = r.path("ram");
        return new MigrationInfo(r.path("status").asText("none"), ram.path("transferred").asLong(-1),
                ram.path("remaining").asLong(-1), ram.path("total").asLong(-1), ram.path("mbps").asDouble(-1),
                ram.path("dirty-sync-count").asLong(-1), r.path("expected-downtime").asLong(-1),
                r.path("downtime").asLong(-1), r.path("total-time").asLong(-1), r.path("setup-time").asLong(-1),
                r.hasNonNull("error-desc") ? r.get("error-desc").asText() : null, r);
    }

    /** {@code completed}, {@code failed} or {@code cancelled}: nothing more will happen. */
    public boolean finished() {
        return status.equals("completed") || status.equals("failed") || status.equals("cancelled");
    }
}
