package io.qvirt.launcher;

import static io.qvirt.launcher.LauncherHarness.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qvirt.testdata.RawQmp;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code launcher exec} as a cluster migration's target pod runs it: env {@code QVIRT_MIGRATION_TARGET} makes QEMU
 * wait for the VM's state ({@code -incoming defer}, status {@code inmigrate}) and puts the uid in launcher.json;
 * a value that is no uid is refused before anything is made. The real jar and QEMU (TCG).
 */
class ExecMigrationTargetIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String UID = "6f1c2a9e-0b7d-4f3e-9a51-2c8d7e6b4a10";

    @TempDir
    Path tmp;

    LauncherHarness h;

    @BeforeEach
    void setUp() throws Exception {
        h = new LauncherHarness(tmp);
    }

    @AfterEach
    void tearDown() {
        h.close();
    }

    @Test
    void targetModeWaitsInMigrateAndRecordsTheUid() throws Exception {
        Path yaml = h.vmYaml("tgt", h.overlay("tgt"), null);
        LauncherHarness.Started ex = h.start(Map.of("QVIRT_MIGRATION_TARGET", UID), "exec", yaml.toString(),
                "--accel", "tcg");
        long pid = ex.process().pid();
        Path qmp = h.vmDir("tgt").resolve("qmp.sock");
        waitFor(() -> Files.exists(qmp) && cmdline(pid).get(0).endsWith("qemu-system-x86_64"), Duration.ofSeconds(60),
                "pid " + pid + " becomes QEMU: " + ex.err());
        List<String> argv = cmdline(pid);
        int i = argv.indexOf("-incoming");
        assertTrue(i > 0 && argv.get(i + 1).equals("defer"), "QEMU waits for a migration: " + argv);
        assertTrue(argv.contains("-S"), "and its CPUs start only when told: " + argv);
        JsonNode info = JSON.readTree(h.vmDir("tgt").resolve("launcher.json").toFile());
        assertEquals(UID, info.path("migrationTarget").asText(), info.toString());
        assertEquals("exec", info.path("mode").asText());
        assertEquals(pid, info.path("qemuPid").asLong());
        try (RawQmp m = RawQmp.connect(qmp, Duration.ofSeconds(20))) {
            m.negotiate();
            String st = m.execute("{\"execute\":\"query-status\"}");
            assertTrue(st.contains("\"status\": \"inmigrate\"") || st.contains("\"status\":\"inmigrate\""), st);
        }
        LauncherHarness.Result k = h.exec("kill", "tgt");
        assertEquals(0, k.code(), k.toString());
        assertTrue(ex.awaitExit(Duration.ofSeconds(10)) >= 0, "QEMU exited");
        waitFor(() -> !Files.exists(h.vmDir("tgt")), Duration.ofSeconds(10), "the target's directory removed by kill");
    }

    @Test
    void aValueThatIsNoUidIsRefusedBeforeAnythingIsMade() throws Exception {
        Path yaml = h.vmYaml("bad", h.overlay("bad"), null);
        for (String bad : List.of("", "../etc", "a b", "x".repeat(65), "--incoming")) {
            // Started, not run to the end: a value wrongly taken would become a QEMU that never exits.
            LauncherHarness.Started r = h.start(Map.of("QVIRT_MIGRATION_TARGET", bad), "exec", yaml.toString(),
                    "--accel", "tcg");
            int code = r.awaitExit(Duration.ofSeconds(60));
            assertNotEquals(-999, code, "'" + bad + "' refused at once, not taken: " + r.err());
            assertNotEquals(0, code, r.err());
            assertTrue(r.err().contains("QVIRT_MIGRATION_TARGET"), "the error names the variable: " + r.err());
            assertFalse(Files.exists(h.vmDir("bad")), "nothing made for '" + bad + "'");
        }
    }

    /** A process's argv from /proc (empty while it is gone). */
    private static List<String> cmdline(long pid) {
        try {
            String raw = Files.readString(Path.of("/proc/" + pid + "/cmdline"), StandardCharsets.UTF_8);
            return List.of(raw.split("\0"));
        } catch (Exception e) {
            return List.of("");
        }
    }
}
