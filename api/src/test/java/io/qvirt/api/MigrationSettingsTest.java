package io.qvirt.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The KubeVirt CR's {@code spec.configuration.migrations}, parsed as virt-controller and virt-handler read it. */
class MigrationSettingsTest {
    private static Map<String, Object> spec(Map<String, Object> migrations) {
        return Map.of("configuration", Map.of("migrations", migrations));
    }

    @Test
    void noCrOrNoMigrationsIsKubeVirtsDefaults() {
        assertEquals(new MigrationSettings(5, 2, 0, 150, 150), MigrationSettings.fromKubeVirtSpec(null));
        assertEquals(MigrationSettings.KUBEVIRT_DEFAULTS, MigrationSettings.fromKubeVirtSpec(Map.of("configuration", Map.of())));
    }

    @Test
    void everyFieldIsRead() {
        MigrationSettings s = MigrationSettings.fromKubeVirtSpec(spec(Map.of("parallelMigrationsPerCluster", 3,
                "parallelOutboundMigrationsPerNode", 1, "bandwidthPerMigration", "64Mi", "completionTimeoutPerGiB", 800,
                "progressTimeout", 30)));
        assertEquals(new MigrationSettings(3, 1, 64L * 1024 * 1024, 800, 30), s);
        assertEquals(0, MigrationSettings.fromKubeVirtSpec(spec(Map.of("bandwidthPerMigration", "0")))
                .bandwidthPerMigrationBytes(), "0 is unlimited");
        assertEquals(new MigrationSettings(5, 2, 0, 150, 150, true, true, false), MigrationSettings.fromKubeVirtSpec(
                spec(Map.of("allowAutoConverge", true, "allowPostCopy", true, "allowWorkloadDisruption", false))));
    }

    @Test
    void workloadDisruptionFollowsPostCopyUnlessGiven() {
        assertTrue(MigrationSettings.fromKubeVirtSpec(spec(Map.of("allowPostCopy", true))).allowWorkloadDisruption());
        assertEquals(false, MigrationSettings.fromKubeVirtSpec(spec(Map.of("allowPostCopy", false)))
                .allowWorkloadDisruption());
        MigrationSettings pauseOnly = MigrationSettings.fromKubeVirtSpec(spec(Map.of("allowWorkloadDisruption", true)));
        assertTrue(pauseOnly.allowWorkloadDisruption());
        assertEquals(false, pauseOnly.allowPostCopy());
    }

    @Test
    void badValuesAreRefusedByField() {
        IllegalArgumentException b = assertThrows(IllegalArgumentException.class,
                () -> MigrationSettings.fromKubeVirtSpec(spec(Map.of("allowPostCopy", "yes"))));
        assertEquals("spec.configuration.migrations.allowPostCopy: 'yes' is not allowed: true or false", b.getMessage());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MigrationSettings.fromKubeVirtSpec(spec(Map.of("parallelMigrationsPerCluster", 0))));
        assertTrue(e.getMessage().startsWith("spec.configuration.migrations.parallelMigrationsPerCluster: '0' is not allowed"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> MigrationSettings.fromKubeVirtSpec(spec(Map.of("parallelOutboundMigrationsPerNode", "two"))));
        assertTrue(e.getMessage().startsWith("spec.configuration.migrations.parallelOutboundMigrationsPerNode"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> MigrationSettings.fromKubeVirtSpec(spec(Map.of("bandwidthPerMigration", "fast"))));
        assertTrue(e.getMessage().startsWith("spec.configuration.migrations.bandwidthPerMigration: 'fast' is not allowed"),
                e.getMessage());
    }
}
