package io.qvirt.handler.vmi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qvirt.api.KubevirtJson;
import io.qvirt.api.MigrationSettings;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.launcher.migrate.MigrationOptions;
import io.qvirt.launcher.plan.RuntimePaths;
import io.qvirt.launcher.runtime.RuntimeDir;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The roles' decisions that need no QEMU: who is a target, which directory is a migration's, the options. */
class MigrationRolesTest {
    private static VirtualMachineInstance vmi(String spec, String status) throws Exception {
        return KubevirtJson.yaml().readValue("apiVersion: kubevirt.io/v1\nkind: VirtualMachineInstance\n"
                + "metadata: {name: a, namespace: default, uid: u1}\nspec:\n" + spec.indent(2) + "status:\n"
                + status.indent(2), VirtualMachineInstance.class);
    }

    @Test
    void aTargetIsNamedByMigrationStateUntilTheHandover() throws Exception {
        String running = "phase: Running\nnodeName: node-1\n";
        assertFalse(MigrationTargetRole.isTargetOf(vmi("domain: {devices: {}}", running), "node-2"), "no migration");
        VirtualMachineInstance v = vmi("domain: {devices: {}}", running
                + "migrationState: {migrationUid: m1, sourceNode: node-1, targetNode: node-2}\n");
        assertTrue(MigrationTargetRole.isTargetOf(v, "node-2"));
        assertFalse(MigrationTargetRole.isTargetOf(v, "node-3"));
        VirtualMachineInstance handedOver = vmi("domain: {devices: {}}", "phase: Running\nnodeName: node-2\n"
                + "migrationState: {migrationUid: m1, sourceNode: node-1, targetNode: node-2, completed: true}\n");
        assertFalse(MigrationTargetRole.isTargetOf(handedOver, "node-2"), "after the handover it is an ordinary VMI here");
    }

    @Test
    void theTargetDirectoryNamesItsMigration(@TempDir Path root) throws Exception {
        RuntimePaths p = RuntimeDir.paths(root, "default", "a");
        Files.createDirectories(p.dir());
        assertNull(MigrationTargetRole.migrationTargetOf(p), "no launcher.json yet");
        Files.writeString(p.launcherJson(), "{\"namespace\":\"default\",\"name\":\"a\",\"mode\":\"exec\",\"qemuPid\":1}");
        assertNull(MigrationTargetRole.migrationTargetOf(p), "an ordinary launcher");
        Files.writeString(p.launcherJson(), "{\"namespace\":\"default\",\"name\":\"a\",\"migrationTarget\":\"m1\"}");
        assertEquals("m1", MigrationTargetRole.migrationTargetOf(p));
        Files.writeString(p.launcherJson(), "{\"namespace\":");
        assertNull(MigrationTargetRole.migrationTargetOf(p), "half written");
    }

    @Test
    void optionsFromTheClusterSettings() throws Exception {
        VirtualMachineInstance small = vmi("domain: {devices: {}, memory: {guest: 256Mi}}", "phase: Running\n");
        MigrationOptions o = MigrationSourceRole.options(small, MigrationSettings.KUBEVIRT_DEFAULTS);
        assertEquals(Duration.ofSeconds(150), o.timeout(), "at least one GiB's worth");
        assertEquals(0, o.maxBandwidth(), "unlimited");
        VirtualMachineInstance big = vmi("domain: {devices: {}, resources: {requests: {memory: 3Gi}}}", "phase: Running\n");
        MigrationOptions b = MigrationSourceRole.options(big, new MigrationSettings(5, 2, 64L << 20, 100, 150));
        assertEquals(Duration.ofSeconds(300), b.timeout(), "100 s per GiB x 3 GiB");
        assertEquals(64L << 20, b.maxBandwidth());
        assertEquals(3L << 30, MigrationSourceRole.guestMemory(big));
        assertEquals(2L << 30, MigrationSourceRole.guestMemory(vmi("domain: {devices: {}, memory: {guest: 2Gi}, "
                + "resources: {requests: {memory: 3Gi}}}", "phase: Running\n")), "memory.guest wins");
    }

    @Test
    void theSettingsAreTheOnesTheControllerResolvedIntoTheMigrationState() throws Exception {
        MigrationSettings cluster = new MigrationSettings(5, 2, 0, 150, 150);
        VirtualMachineInstance resolved = vmi("domain: {devices: {}}", "migrationState: {migrationUid: m1, "
                + "migrationPolicyName: gold, migrationConfiguration: {bandwidthPerMigration: 1Mi, "
                + "completionTimeoutPerGiB: 3, allowPostCopy: true, allowWorkloadDisruption: true}}\n");
        assertEquals(new MigrationSettings(5, 2, 1L << 20, 3, 150, false, true, true),
                MigrationSourceRole.settings("k", "m1", resolved, cluster), "given fields the state's, the rest the CR's");
        assertEquals(cluster, MigrationSourceRole.settings("k", "m1", vmi("domain: {devices: {}}",
                "migrationState: {migrationUid: m1}\n"), cluster), "none written: the KubeVirt CR's");
        assertEquals(cluster, MigrationSourceRole.settings("k", "m1", vmi("domain: {devices: {}}",
                "migrationState: {migrationUid: m1, migrationConfiguration: {bandwidthPerMigration: lots}}\n"), cluster),
                "unusable: the KubeVirt CR's");
    }

    @Test
    void theCompletionTimeoutCancelsSwitchesToPostcopyOrPausesAsKubeVirtsSettingsSay() throws Exception {
        VirtualMachineInstance v = vmi("domain: {devices: {}, memory: {guest: 256Mi}}", "phase: Running\n");
        MigrationOptions plain = MigrationSourceRole.options(v, MigrationSettings.KUBEVIRT_DEFAULTS);
        assertEquals(MigrationOptions.OnTimeout.CANCEL, plain.onTimeout());
        assertFalse(plain.postcopyCapable());
        assertFalse(plain.autoConverge());
        MigrationOptions post = MigrationSourceRole.options(v, new MigrationSettings(5, 2, 0, 150, 150, true, true, true));
        assertEquals(MigrationOptions.OnTimeout.POSTCOPY, post.onTimeout());
        assertTrue(post.postcopyCapable(), "postcopy-ram set on both ends before the migration starts");
        assertFalse(post.postcopy(), "pre-copy first: postcopy only at the timeout");
        assertTrue(post.autoConverge());
        assertEquals(MigrationSourceRole.NO_COMPLETION_TIMEOUT, MigrationSourceRole.options(v,
                new MigrationSettings(5, 2, 0, 0, 150, false, true, true)).timeout(), "KubeVirt: 0 is no completion timeout");
        assertEquals(MigrationOptions.OnTimeout.PAUSE, MigrationSourceRole.options(v,
                new MigrationSettings(5, 2, 0, 150, 150, false, false, true)).onTimeout());
        assertEquals(MigrationOptions.OnTimeout.CANCEL, MigrationSourceRole.options(v,
                new MigrationSettings(5, 2, 0, 150, 150, false, true, false)).onTimeout(),
                "allowPostCopy without allowWorkloadDisruption: the timeout still cancels");
    }
}
