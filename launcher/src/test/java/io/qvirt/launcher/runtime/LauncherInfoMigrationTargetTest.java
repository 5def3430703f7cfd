package io.qvirt.launcher.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.qvirt.launcher.plan.RuntimePaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** launcher.json's migrationTarget: written only for a migration's target, absent (null) in older files. */
class LauncherInfoMigrationTargetTest {
    @TempDir
    Path tmp;

    @Test
    void targetUidRoundTripsAndOldFilesStillRead() throws Exception {
        RuntimePaths p = RuntimeDir.paths(tmp, "default", "vm");
        Files.createDirectories(p.dir());
        LauncherInfos.write(p, new LauncherInfo("default", "vm", "exec", 42, 0, "tcg", "test", "/usr/bin/qemu",
                "0", "2026-01-01T00:00:00Z", List.of(), null, "6f1c2a9e-0b7d"));
        assertEquals("6f1c2a9e-0b7d", LauncherInfos.read(p).migrationTarget());

        LauncherInfos.write(p, new LauncherInfo("default", "vm", "exec", 42, 0, "tcg", "test", "/usr/bin/qemu",
                "0", "2026-01-01T00:00:00Z", List.of(), null));
        assertFalse(Files.readString(p.launcherJson()).contains("migrationTarget"), "not written when null");

        // A file from before the field existed.
        Files.writeString(p.launcherJson(), "{\"namespace\":\"default\",\"name\":\"vm\",\"mode\":\"exec\",\"qemuPid\":42,"
                + "\"launcherPid\":0,\"accelerator\":\"tcg\",\"acceleratorReason\":\"x\",\"qemuBinary\":\"q\","
                + "\"qvirtVersion\":\"0\",\"startedAt\":\"t\",\"forwards\":[],\"ipAddress\":null}");
        LauncherInfo old = LauncherInfos.read(p);
        assertNull(old.migrationTarget());
        assertEquals(42, old.qemuPid());
    }
}
