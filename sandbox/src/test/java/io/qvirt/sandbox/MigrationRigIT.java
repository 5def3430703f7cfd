package io.qvirt.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.qvirt.api.ManifestLoader;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.VirtualMachineInstanceMigration;
import io.qvirt.api.model.MigrationState;
import io.qvirt.api.model.PhaseTransition;
import io.qvirt.api.model.Port;
import io.qvirt.testdata.ConsoleWatcher;
import io.qvirt.testdata.GuestMarkers;
import io.qvirt.testdata.TestGuest;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live migration on the rig with two nodes (fabric8's CRUD mock API behind the front door, NOT a kube-apiserver;
 * virt-api, virt-controller and both virt-handlers real processes; FAKE node agents run the launcher pods as local
 * processes with pod IPs 127.0.node.n; the guest is the real test guest under TCG). {@code virtctl migrate} moves a
 * running guest to the other node while it writes to its disk: the VMIM goes through KubeVirt's phases to
 * Succeeded, the VMI's node and interface IP change, the serial console's shell is the same one (its variables and
 * uptime go on), the written data's checksum matches, {@code virtctl port-forward} reaches the guest's HTTP server on
 * the new node, and exactly one QEMU runs it. A source handler killed mid-migration fails the migration and leaves
 * the guest running on exactly one side; {@code virtctl migrate-cancel} stops one; two migrations at once obey the
 * KubeVirt CR's {@code parallelMigrationsPerCluster}; a drain's eviction migrates; a MigrationPolicy (a bad one refused
 * by virt-api) makes a migration switch to postcopy at its completion timeout.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MigrationRigIT {
    private static final Duration BOOT = Duration.ofSeconds(180);
    private static final Duration SHORT = Duration.ofSeconds(30);
    private static final Duration MIGRATION = Duration.ofSeconds(180);
    private static final Path VIRTCTL = SandboxIT.ROOT.resolve("bin/virtctl");
    private static final Set<String> FINAL = Set.of("Succeeded", "Failed");
    private static final Pattern SUM = Pattern.compile("sum=([0-9a-f]{32})\\r?\\n");
    private static final Pattern SESSION = Pattern.compile("sess=(qvirt-session-[0-9]+)\\r?\\n");
    private static final Pattern UPTIME = Pattern.compile("up=([0-9.]+)\\r?\\n");
    private static final Pattern ECHOED = Pattern.compile("qvirt-alive-42\\r?\\n");

    @TempDir
    static Path tmp;
    static Path dir;
    static KubernetesClient client;
    static final List<Process> started = new ArrayList<>();
    /** The shell session marker set on the serial console before the first migration. */
    static String session;

    record Result(int code, String out, String err) {
    }

    @BeforeAll
    static void up() throws Exception {
        assertTrue(Files.isRegularFile(SandboxIT.ROOT.resolve("virtctl/target/qvirt-virtctl.jar")),
                "bin/virtctl is not built (mvn -pl virtctl package): the sandbox module needs qvirt-virtctl as a test dependency");
        SandboxIT.registry();
        dir = tmp.resolve("rig");
        SandboxIT.Result up = SandboxIT.run(Duration.ofSeconds(240), SandboxIT.BIN.toString(), "up", "--dir",
                dir.toString(), "--nodes", "2");
        assertEquals(0, up.code(), up.out());
        client = SandboxIT.client(dir);
    }

    @AfterAll
    static void down() throws Exception {
        for (Process p : started) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        if (client != null) {
            client.close();
        }
        if (dir != null) {
            SandboxIT.Result down = SandboxIT.run(Duration.ofSeconds(120), SandboxIT.BIN.toString(), "down", "--dir", dir.toString());
            assertEquals(0, down.code(), down.out());
            assertEquals(List.of(), SandboxIT.processesMentioning(dir), "down leaves no process");
        }
    }

    @Test
    @Order(1)
    void virtctlMigrateMovesTheRunningGuestWithItsSessionDiskAndPorts() throws Exception {
        VirtualMachineInstance v = startVm("mig");
        String sourceNode = v.getStatus().getNodeName();
        long sourceQemu = qemuPid(v);
        String sourcePodIp = podOf(v).getStatus().getPodIP();

        // On the serial console: a shell variable that names this session, 4 MiB of random data and its checksum, the
        // uptime; then the data written to the disk over and over in the background, so the disk is being written
        // while it is copied to the target.
        String sum1;
        double up1;
        try (Console c = Console.open("mig")) {
            c.type("S=qvirt-session-$$; dd if=/dev/urandom of=/tmp/d bs=4k count=1024 2>/dev/null; "
                    + "echo sum=$(md5sum < /tmp/d | cut -c1-32); echo sess=$S; echo up=$(cut -d' ' -f1 /proc/uptime)\n");
            sum1 = c.await(SUM).group(1);
            session = c.await(SESSION).group(1);
            up1 = Double.parseDouble(c.await(UPTIME).group(1));
            // 20 s of writes by the guest's clock (a 4 MiB write takes ~0.1 s here): they span the migration.
            c.type("(end=$(($(date +%s)+20)); while [ $(date +%s) -lt $end ]; do dd if=/tmp/d of=/dev/vda bs=4k "
                    + "seek=8192 conv=fsync 2>/dev/null; done; echo QVIRT-WRITES-DONE) & echo QVIRT-WRITER-$((3*3))\n");
            // the shell's answer before the console closes: closing at once can cut the line short on a slow machine,
            // leaving the shell waiting for the rest (a clean-clone run saw "> " on the target's console)
            c.await(Pattern.compile("QVIRT-WRITER-9\\r?\\n"));
        }
        assertEquals("mig", httpHostname("mig"), "the guest's HTTP server through virtctl port-forward, before");

        assertEquals("VM mig was scheduled to migrate\n", ok("migrate", "mig").out());
        VirtualMachineInstanceMigration m = awaitMigrationEnd("mig");
        assertEquals("Succeeded", m.getStatus().getPhase(), () -> "migration " + describe(m) + "; VMI " + describe(vmi("mig")));
        List<String> phases = m.getStatus().getPhaseTransitionTimestamps().stream().map(PhaseTransition::getPhase).toList();
        assertEquals(List.of("Pending", "Scheduling", "Scheduled", "PreparingTarget", "TargetReady", "Running", "Succeeded"),
                phases, "KubeVirt's migration phases, in order");

        VirtualMachineInstance after = vmi("mig");
        String targetNode = after.getStatus().getNodeName();
        assertNotEquals(sourceNode, targetNode, "the VMI moved to the other node");
        assertEquals(targetNode, after.getMetadata().getLabels().get("kubevirt.io/nodeName"));
        assertEquals("Running", after.getStatus().getPhase());
        MigrationState ms = after.getStatus().getMigrationState();
        assertEquals(m.getMetadata().getUid(), ms.getMigrationUid());
        assertEquals(Boolean.TRUE, ms.getCompleted());
        assertNotEquals(Boolean.TRUE, ms.getFailed());
        assertEquals(sourceNode, ms.getSourceNode());
        assertEquals(targetNode, ms.getTargetNode());
        assertNotNull(ms.getTargetNodeDomainReadyTimestamp(), "the target handler took the VMI over");
        Pod target = podOf(after);
        assertEquals(targetNode, target.getSpec().getNodeName());
        assertNotEquals(sourcePodIp, target.getStatus().getPodIP());
        SandboxIT.await(SHORT, "the VMI's interface shows the new pod's IP", () ->
                target.getStatus().getPodIP().equals(vmi("mig").getStatus().getInterfaces().get(0).getIpAddress()));
        SandboxIT.await(SHORT, "the source pod Succeeded", () -> "Succeeded".equals(phaseOfPod(ms.getSourcePod())));
        SandboxIT.await(SHORT, "the source QEMU gone", () -> ProcessHandle.of(sourceQemu).isEmpty());
        long targetQemu = qemuPid(after);
        assertNotEquals(sourceQemu, targetQemu);
        assertEquals(1, qemusOf("mig").size(), "exactly one QEMU runs the guest: " + qemusOf("mig"));

        // The same shell on the console (its variable), uptime went on, and the data written during the migration reads
        // back from the disk (page cache dropped) with the same checksum.
        Path log = vmDir(after).resolve("console.log");
        try (Console c = Console.open("mig")) {
            // wait: the shell's background writer (its 20 s span the migration) has ended before the disk is read.
            c.type("wait; echo; echo 3 > /proc/sys/vm/drop_caches; "
                    + "echo sum=$(dd if=/dev/vda bs=4k skip=8192 count=1024 2>/dev/null | md5sum | cut -c1-32); "
                    + "echo sess=$S; echo up=$(cut -d' ' -f1 /proc/uptime)\n");
            assertEquals(sum1, c.await(SUM).group(1), "the data written while migrating is on the target's disk");
            assertEquals(session, c.await(SESSION).group(1), "the same shell session on the serial console");
            double up2 = Double.parseDouble(c.await(UPTIME).group(1));
            assertTrue(up2 > up1, "uptime goes on (same boot): " + up1 + " then " + up2);
        }
        assertEquals(0, GuestMarkers.BOOTED.matcher(read(log)).results().count(), "no boot on the target: " + log);
        assertEquals("mig", httpHostname("mig"), "virtctl port-forward reaches the guest on its new node");

        Result table = kubectl("get", "virtualmachineinstancemigrations");
        assertEquals(0, table.code(), table.err());
        assertTrue(table.out().lines().anyMatch(l -> l.startsWith(m.getMetadata().getName()) && l.contains("Succeeded")
                && l.contains("mig")), table.out());
    }

    @Test
    @Order(2)
    void aSourceHandlerKilledMidMigrationFailsItAndTheGuestRunsOnOneSide() throws Exception {
        // Slow enough to be caught mid-way: 1 MiB/s for a guest with tens of MiB of touched memory.
        migrations("{\"bandwidthPerMigration\":\"1Mi\"}");
        VirtualMachineInstance v = vmi("mig");
        String node = v.getStatus().getNodeName();
        long qemu = qemuPid(v);
        ok("migrate", "mig");
        VirtualMachineInstanceMigration running = awaitMigrationPhase("mig", "Running");
        Thread.sleep(1500);
        long handler = (Long) SandboxIT.component(dir, "virt-handler-" + node).get("pid");
        ProcessHandle.of(handler).ifPresent(ProcessHandle::destroyForcibly);
        SandboxIT.await(SHORT, "the handler of " + node + " restarted", () -> {
            long now = (Long) SandboxIT.component(dir, "virt-handler-" + node).get("pid");
            return now != handler && ProcessHandle.of(now).map(ProcessHandle::isAlive).orElse(false);
        });
        VirtualMachineInstanceMigration m = awaitMigrationEnd("mig", running.getMetadata().getName());
        assertEquals("Failed", m.getStatus().getPhase(), () -> describe(m));
        VirtualMachineInstance after = vmi("mig");
        assertEquals(node, after.getStatus().getNodeName(), "the VMI stays on its node");
        assertEquals(Boolean.TRUE, after.getStatus().getMigrationState().getFailed());
        assertEquals("Running", after.getStatus().getPhase());
        assertTrue(ProcessHandle.of(qemu).map(ProcessHandle::isAlive).orElse(false), "the source QEMU runs on");
        SandboxIT.await(SHORT, "the target QEMU gone", () -> qemusOf("mig").size() == 1);
        assertEquals(Set.of(qemu), new HashSet<>(qemusOf("mig")), "exactly one QEMU runs the guest, the source's");
        SandboxIT.await(SHORT, "the VMI's status Running without Paused", () -> !paused(vmi("mig")));
        try (Console c = Console.open("mig")) {
            c.type("echo; echo qvirt-alive-$((6*7)); echo sess=$S\n");
            c.await(ECHOED);
            assertEquals(session, c.await(SESSION).group(1), "the same shell, running on the source");
        }
    }

    @Test
    @Order(3)
    void migrateCancelStopsAMigrationAndTheGuestStays() throws Exception {
        migrations("{\"bandwidthPerMigration\":\"1Mi\"}");
        VirtualMachineInstance v = vmi("mig");
        String node = v.getStatus().getNodeName();
        long qemu = qemuPid(v);
        ok("migrate", "mig");
        VirtualMachineInstanceMigration running = awaitMigrationPhase("mig", "Running");
        Result cancel = run("migrate-cancel", "mig");
        assertEquals("VM mig was scheduled to migrate-cancel\n", cancel.out(), () -> cancel.err() + diagnosis("mig"));
        SandboxIT.await(MIGRATION, "the cancelled migration's object gone (its finalizer released)", () -> client
                .resources(VirtualMachineInstanceMigration.class).inNamespace("default")
                .withName(running.getMetadata().getName()).get() == null);
        SandboxIT.await(SHORT, "the VMI's migrationState says aborted: " + describe(vmi("mig")), () -> {
            MigrationState ms = vmi("mig").getStatus().getMigrationState();
            return ms != null && running.getMetadata().getUid().equals(ms.getMigrationUid())
                    && Boolean.TRUE.equals(ms.getCompleted()) && "Succeeded".equals(ms.getAbortStatus());
        });
        assertEquals(node, vmi("mig").getStatus().getNodeName());
        SandboxIT.await(SHORT, "the target QEMU gone", () -> qemusOf("mig").size() == 1);
        assertEquals(Set.of(qemu), new HashSet<>(qemusOf("mig")));
        try (Console c = Console.open("mig")) {
            c.type("echo; echo qvirt-alive-$((6*7))\n");
            c.await(ECHOED);
        }
    }

    @Test
    @Order(4)
    void twoMigrationsAtOnceObeyTheClusterLimit() throws Exception {
        migrations("{\"bandwidthPerMigration\":\"16Mi\",\"parallelMigrationsPerCluster\":1}");
        startVm("mig2");
        List<String> names = List.of("mig", "mig2");
        for (String n : names) {
            ok("migrate", n);
        }
        Set<String> active = Set.of("Scheduling", "Scheduled", "PreparingTarget", "TargetReady", "Running");
        boolean heldBack = false;
        long until = System.nanoTime() + MIGRATION.toNanos() * 2;
        while (true) {
            List<VirtualMachineInstanceMigration> mine = client.resources(VirtualMachineInstanceMigration.class)
                    .inNamespace("default").list().getItems().stream()
                    .filter(x -> names.contains(x.getSpec().getVmiName()) && !startedBefore(x)).toList();
            long running = mine.stream().filter(x -> x.getStatus() != null && active.contains(x.getStatus().getPhase())).count();
            assertTrue(running <= 1, "at most one migration active at once: " + mine.stream().map(MigrationRigIT::describe).toList());
            boolean pending = mine.stream().anyMatch(x -> x.getStatus() != null && "Pending".equals(x.getStatus().getPhase()));
            heldBack |= running == 1 && pending;
            if (mine.size() == 2 && mine.stream().allMatch(x -> x.getStatus() != null && FINAL.contains(x.getStatus().getPhase()))) {
                for (VirtualMachineInstanceMigration x : mine) {
                    assertEquals("Succeeded", x.getStatus().getPhase(), describe(x));
                }
                break;
            }
            assertTrue(System.nanoTime() < until, "both migrations end: " + mine.stream().map(MigrationRigIT::describe).toList());
            Thread.sleep(100);
        }
        assertTrue(heldBack, "one migration waited in Pending while the other ran");
        for (String n : names) {
            SandboxIT.await(SHORT, n + ": its source QEMU quit, exactly one QEMU", () -> qemusOf(n).size() == 1);
        }
    }

    @Test
    @Order(5)
    void aDrainsEvictionMigratesAVmiWhoseStrategyIsLiveMigrate() throws Exception {
        client.genericKubernetesResources(io.qvirt.api.client.KubeVirtCrReader.KUBEVIRT).inNamespace("kubevirt")
                .withName("kubevirt").patch(PatchContext.of(PatchType.JSON_MERGE),
                        "{\"spec\":{\"configuration\":{\"evictionStrategy\":\"LiveMigrate\"}}}");
        client.resources(VirtualMachineInstanceMigration.class).inNamespace("default").list().getItems()
                .forEach(x -> EARLIER.add(x.getMetadata().getUid()));
        VirtualMachineInstance v = vmi("mig");
        String node = v.getStatus().getNodeName();
        Pod pod = podOf(v);
        // fabric8's evict() is false on kube-apiserver's 429: the webhook refused it and marked the VMI instead.
        boolean evicted = SandboxIT.awaitValue(SHORT, "the eviction answered", () -> {
            try {
                return client.pods().inNamespace("default").withName(pod.getMetadata().getName()).evict();
            } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
                throw new AssertionError("eviction failed: " + e.getMessage(), e);
            }
        });
        assertEquals(false, evicted, "the launcher pod is not evicted: its VMI migrates instead");
        assertEquals(node, vmi("mig").getStatus().getEvacuationNodeName());
        VirtualMachineInstanceMigration m = awaitMigrationEnd("mig");
        assertTrue(m.getMetadata().getName().startsWith("kubevirt-evacuation-"), m.getMetadata().getName());
        assertEquals("Succeeded", m.getStatus().getPhase(), () -> describe(m));
        VirtualMachineInstance after = vmi("mig");
        assertNotEquals(node, after.getStatus().getNodeName(), "the VMI left the drained node");
        SandboxIT.await(SHORT, "the old launcher pod Succeeded", () -> "Succeeded".equals(phaseOfPod(pod.getMetadata().getName())));
        assertTrue(client.pods().inNamespace("default").withName(pod.getMetadata().getName()).evict(),
                "the finished launcher pod is evicted (deleted)");
        assertEquals(1, qemusOf("mig").size());
        try (Console c = Console.open("mig")) {
            c.type("echo; echo qvirt-alive-$((6*7)); echo sess=$S\n");
            c.await(ECHOED);
            assertEquals(session, c.await(SESSION).group(1), "the same shell after the evacuation");
        }
    }

    @Test
    @Order(6)
    void aMigrationPolicyMatchingTheVmiSwitchesItsMigrationToPostcopyAtItsTimeout() throws Exception {
        Path bad = tmp.resolve("bad-policy.yaml");
        Files.writeString(bad, """
                apiVersion: migrations.kubevirt.io/v1alpha1
                kind: MigrationPolicy
                metadata:
                  name: bad
                spec:
                  selectors: {}
                  completionTimeoutPerGiB: -1
                """);
        Result refused = kubectl("apply", "-f", bad.toString());
        assertNotEquals(0, refused.code(), refused.out());
        assertTrue(refused.err().contains("spec.completionTimeoutPerGiB: must not be negative"), refused.err());
        assertNull(client.resources(io.qvirt.api.migrations.MigrationPolicy.class).withName("bad").get(), "not stored");
        Path good = tmp.resolve("policy.yaml");
        Files.writeString(good, """
                apiVersion: migrations.kubevirt.io/v1alpha1
                kind: MigrationPolicy
                metadata:
                  name: postcopy-at-3s
                spec:
                  selectors:
                    virtualMachineInstanceSelector:
                      kubevirt.io/domain: testvm
                  bandwidthPerMigration: 1Mi
                  completionTimeoutPerGiB: 3
                  allowPostCopy: true
                """);
        Result applied = kubectl("apply", "-f", good.toString());
        assertEquals(0, applied.code(), applied.err());
        client.resources(VirtualMachineInstanceMigration.class).inNamespace("default").list().getItems()
                .forEach(x -> EARLIER.add(x.getMetadata().getUid()));
        String node = vmi("mig").getStatus().getNodeName();
        ok("migrate", "mig");
        VirtualMachineInstanceMigration m = awaitMigrationEnd("mig");
        assertEquals("Succeeded", m.getStatus().getPhase(), () -> describe(m) + "; VMI " + describe(vmi("mig")));
        VirtualMachineInstance after = vmi("mig");
        MigrationState ms = after.getStatus().getMigrationState();
        assertEquals("postcopy-at-3s", ms.getMigrationPolicyName(), "the controller matched the policy");
        assertEquals(3L, ms.getMigrationConfiguration().getCompletionTimeoutPerGiB());
        assertEquals("PostCopy", ms.getMode(), "1 MiB/s cannot move the guest in 3 s: switched to postcopy");
        assertNotEquals(node, after.getStatus().getNodeName());
        SandboxIT.await(SHORT, "exactly one QEMU", () -> qemusOf("mig").size() == 1);
        try (Console c = Console.open("mig")) {
            c.type("echo; echo qvirt-alive-$((6*7)); echo sess=$S\n");
            c.await(ECHOED);
            assertEquals(session, c.await(SESSION).group(1), "the same shell after a postcopy migration");
        }
        assertEquals(0, kubectl("delete", "migrationpolicy", "postcopy-at-3s").code());
    }

    // ---- helpers ----

    /** Migrations created by an earlier test of this class (ended before this one) are not this test's. */
    private static final Set<String> EARLIER = new HashSet<>();

    private static boolean startedBefore(VirtualMachineInstanceMigration m) {
        return EARLIER.contains(m.getMetadata().getUid());
    }

    static VirtualMachineInstance startVm(String name) throws Exception {
        client.resources(VirtualMachineInstanceMigration.class).inNamespace("default").list().getItems()
                .forEach(x -> EARLIER.add(x.getMetadata().getUid()));
        VirtualMachine vm = ManifestLoader.loadOne(TestGuest.testVmYaml()).vm();
        vm.getMetadata().setName(name);
        vm.getMetadata().setNamespace("default");
        vm.getSpec().setRunning(true);
        Port http = new Port();
        http.setName("http");
        http.setPort(80);
        vm.getSpec().getTemplate().getSpec().getDomain().getDevices().getInterfaces().get(0).setPorts(List.of(http));
        client.resources(VirtualMachine.class).resource(vm).create();
        VirtualMachineInstance v = SandboxIT.awaitValue(BOOT, "VMI " + name + " Running", () -> {
            VirtualMachineInstance x = vmi(name);
            return x != null && x.getStatus() != null && "Running".equals(x.getStatus().getPhase()) ? x : null;
        });
        Path log = vmDir(v).resolve("console.log");
        SandboxIT.await(BOOT, "the guest's shell prompt in console.log", () -> read(log).contains(GuestMarkers.PROMPT));
        SandboxIT.await(SHORT, "VMI " + name + " LiveMigratable", () -> vmi(name).getStatus().getConditions().stream()
                .anyMatch(c -> "LiveMigratable".equals(c.getType()) && "True".equals(c.getStatus())));
        return vmi(name);
    }

    /** Sets the KubeVirt CR's spec.configuration.migrations (a merge patch of that object). */
    static void migrations(String json) {
        client.genericKubernetesResources(io.qvirt.api.client.KubeVirtCrReader.KUBEVIRT).inNamespace("kubevirt")
                .withName("kubevirt").patch(PatchContext.of(PatchType.JSON_MERGE),
                        "{\"spec\":{\"configuration\":{\"migrations\":" + json + "}}}");
    }

    /** The newest migration of {@code vmi} not made by an earlier step. */
    static VirtualMachineInstanceMigration newest(String vmi) {
        return client.resources(VirtualMachineInstanceMigration.class).inNamespace("default")
                .withLabel("kubevirt.io/vmi-name", vmi).list().getItems().stream()
                .filter(x -> !EARLIER.contains(x.getMetadata().getUid()))
                .max(java.util.Comparator.comparing(x -> x.getMetadata().getCreationTimestamp())).orElse(null);
    }

    static VirtualMachineInstanceMigration awaitMigrationPhase(String vmi, String phase) throws Exception {
        try {
            return SandboxIT.awaitValue(MIGRATION, "a migration of " + vmi + " in phase " + phase, () -> {
                VirtualMachineInstanceMigration x = newest(vmi);
                if (x != null && x.getStatus() != null && FINAL.contains(x.getStatus().getPhase()) && !FINAL.contains(phase)) {
                    throw new AssertionError("migration ended before " + phase + ": " + describe(x));
                }
                return x != null && x.getStatus() != null && phase.equals(x.getStatus().getPhase()) ? x : null;
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + diagnosis(vmi), e);
        }
    }

    static VirtualMachineInstanceMigration awaitMigrationEnd(String vmi) throws Exception {
        VirtualMachineInstanceMigration m;
        try {
            m = SandboxIT.awaitValue(MIGRATION, "a migration of " + vmi + " created", () -> newest(vmi));
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + diagnosis(vmi), e);
        }
        return awaitMigrationEnd(vmi, m.getMetadata().getName());
    }

    static VirtualMachineInstanceMigration awaitMigrationEnd(String vmi, String name) throws Exception {
        VirtualMachineInstanceMigration m;
        try {
            m = SandboxIT.awaitValue(MIGRATION, "migration " + name + " of " + vmi + " final", () -> {
                VirtualMachineInstanceMigration x = client.resources(VirtualMachineInstanceMigration.class).inNamespace("default")
                        .withName(name).get();
                return x != null && x.getStatus() != null && FINAL.contains(x.getStatus().getPhase()) ? x : null;
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + diagnosis(vmi), e);
        }
        EARLIER.add(m.getMetadata().getUid());
        return m;
    }

    /** What a failed wait leaves to read: the migrations, the VMI's status, the components' log lines on migration. */
    static String diagnosis(String vmi) {
        StringBuilder b = new StringBuilder("migrations: ");
        client.resources(VirtualMachineInstanceMigration.class).inNamespace("default").list().getItems()
                .forEach(x -> b.append(describe(x)).append('\n'));
        b.append("VMI: ").append(describe(vmi(vmi))).append('\n');
        for (Pod p : client.pods().inNamespace("default").list().getItems()) {
            b.append("pod ").append(p.getMetadata().getName()).append(" on ").append(p.getSpec().getNodeName()).append(": ")
                    .append(p.getStatus() == null ? "no status" : io.qvirt.api.KubevirtJson.toTree(p.getStatus()).toString())
                    .append('\n');
        }
        try (var nodes = Files.list(dir.resolve("nodes"))) {
            for (Path n : nodes.toList()) {
                Path d = n.resolve("run/default").resolve(vmi);
                b.append("dir ").append(d).append(": ").append(Files.exists(d) ? read(d.resolve("launcher.json")) : "absent")
                        .append('\n');
            }
        } catch (java.io.IOException e) {
            b.append("nodes not listable: ").append(e).append('\n');
        }
        try (var logs = Files.list(dir.resolve("logs"))) {
            for (Path l : logs.sorted().toList()) {
                List<String> lines = Files.readAllLines(l, StandardCharsets.ISO_8859_1).stream()
                        .filter(x -> !x.contains("SO_KEEPALIVE") && (x.toLowerCase(java.util.Locale.ROOT).contains("migrat")
                                || x.contains("SEVERE") || x.contains("WARNING") || x.contains("Exception")
                                || x.contains(vmi)))
                        .toList();
                b.append("---- ").append(l.getFileName()).append(" (").append(lines.size()).append(" lines on migration)\n");
                lines.subList(Math.max(0, lines.size() - 40), lines.size()).forEach(x -> b.append(x).append('\n'));
            }
        } catch (java.io.IOException e) {
            b.append("logs not readable: ").append(e);
        }
        return b.toString();
    }

    static String describe(Object o) {
        try {
            return o == null ? "null" : new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(
                    o instanceof io.fabric8.kubernetes.api.model.HasMetadata h
                            ? java.util.Map.of("name", h.getMetadata().getName(), "labels",
                                    String.valueOf(h.getMetadata().getLabels()), "status",
                                    io.qvirt.api.KubevirtJson.toTree(o).path("status"))
                            : o);
        } catch (Exception e) {
            return String.valueOf(o);
        }
    }

    static VirtualMachineInstance vmi(String name) {
        return client.resources(VirtualMachineInstance.class).inNamespace("default").withName(name).get();
    }

    static boolean paused(VirtualMachineInstance v) {
        return v.getStatus().getConditions() != null && v.getStatus().getConditions().stream()
                .anyMatch(c -> "Paused".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    /** The VMI's current launcher pod: the one on its node. */
    static Pod podOf(VirtualMachineInstance v) {
        return client.pods().inNamespace("default").withLabel("kubevirt.io/created-by", v.getMetadata().getUid()).list()
                .getItems().stream().filter(p -> v.getStatus().getNodeName().equals(p.getSpec().getNodeName())
                        && "Running".equals(p.getStatus().getPhase()))
                .findFirst().orElseThrow(() -> new AssertionError("no running launcher pod on " + v.getStatus().getNodeName()));
    }

    static String phaseOfPod(String name) {
        Pod p = client.pods().inNamespace("default").withName(name).get();
        return p == null || p.getStatus() == null ? null : p.getStatus().getPhase();
    }

    static Path vmDir(VirtualMachineInstance v) {
        return dir.resolve("nodes").resolve(v.getStatus().getNodeName()).resolve("run/default").resolve(v.getMetadata().getName());
    }

    static long qemuPid(VirtualMachineInstance v) throws Exception {
        Path info = vmDir(v).resolve("launcher.json");
        return SandboxIT.awaitValue(SHORT, "launcher.json of " + v.getMetadata().getName(), () -> {
            try {
                long pid = new ObjectMapper().readTree(Files.readString(info)).path("qemuPid").asLong();
                return pid > 0 ? pid : null;
            } catch (java.io.IOException e) {
                return null;
            }
        });
    }

    /** The live QEMUs whose launcher.json, on any node, is the VM's: one per running copy of the guest. */
    static List<Long> qemusOf(String name) {
        List<Long> out = new ArrayList<>();
        try (var nodes = Files.list(dir.resolve("nodes"))) {
            for (Path n : nodes.toList()) {
                Path info = n.resolve("run/default").resolve(name).resolve("launcher.json");
                if (Files.exists(info)) {
                    long pid = new ObjectMapper().readTree(Files.readString(info)).path("qemuPid").asLong();
                    if (pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                        out.add(pid);
                    }
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out;
    }

    static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.ISO_8859_1);
        } catch (java.io.IOException e) {
            return "";
        }
    }

    /** GET /hostname from the guest's busybox httpd through {@code virtctl port-forward vm/NAME PORT:80}. */
    static String httpHostname(String name) throws Exception {
        int port = 18180 + Math.floorMod(name.hashCode(), 100);
        Path err = Files.createTempFile(tmp, "pf", ".err");
        Process pf = start(virtctlProcess("port-forward", "vm/" + name, port + ":80").redirectError(err.toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD));
        try {
            SandboxIT.await(SHORT, "port-forward listening", () -> read(err).contains("forwarding tcp 127.0.0.1:" + port));
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/hostname")).timeout(Duration.ofSeconds(60)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), read(err));
            return r.body().strip();
        } finally {
            pf.destroy();
            pf.waitFor(10, TimeUnit.SECONDS);
        }
    }

    static ProcessBuilder virtctlProcess(String... args) {
        List<String> cmd = new ArrayList<>(List.of(VIRTCTL.toString(), "--kubeconfig", dir.resolve("kubeconfig").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("HOME", tmp.toString());
        pb.environment().remove("KUBECONFIG");
        return pb;
    }

    static Process start(ProcessBuilder pb) throws java.io.IOException {
        Process p = pb.start();
        started.add(p);
        return p;
    }

    static Result ok(String... args) throws Exception {
        Result r = run(args);
        assertEquals(0, r.code(), "virtctl " + String.join(" ", args) + ": " + r.err());
        return r;
    }

    static Result run(String... args) throws Exception {
        Path out = Files.createTempFile(tmp, "out", ".txt");
        Path err = Files.createTempFile(tmp, "err", ".txt");
        Process p = start(virtctlProcess(args).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(out.toFile()).redirectError(err.toFile()));
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("virtctl " + String.join(" ", args) + " did not end within 60 s");
        }
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    static Result kubectl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(KubectlRigIT.kubectlBinary(), "--kubeconfig",
                dir.resolve("kubeconfig").toString()));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile(tmp, "out", ".txt");
        Path err = Files.createTempFile(tmp, "err", ".txt");
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("HOME", tmp.resolve("kube-home").toString());
        pb.environment().remove("KUBECONFIG");
        Process p = start(pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(out.toFile()).redirectError(err.toFile()));
        if (!p.waitFor(200, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("kubectl " + String.join(" ", args) + " did not end within 200 s");
        }
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    /** {@code virtctl console NAME} as a process: lines typed in, output awaited; Ctrl-] on close. */
    static final class Console implements AutoCloseable {
        private final Process process;
        private final ConsoleWatcher out;
        private final OutputStream in;

        private Console(Process process) {
            this.process = process;
            this.out = new ConsoleWatcher(process.getInputStream(), "virtctl console");
            this.in = process.getOutputStream();
        }

        static Console open(String name) throws Exception {
            Path err = Files.createTempFile(tmp, "console", ".err");
            Console c = new Console(start(virtctlProcess("console", name, "--timeout", "3").redirectError(err.toFile())));
            SandboxIT.await(SHORT, "virtctl console connected", () -> read(err).contains("Successfully connected to " + name));
            return c;
        }

        void type(String line) throws java.io.IOException {
            in.write(line.getBytes(StandardCharsets.UTF_8));
            in.flush();
        }

        Matcher await(Pattern p) throws Exception {
            return out.await(p, SHORT);
        }

        @Override
        public void close() throws Exception {
            try {
                in.write(29); // Ctrl-]
                in.flush();
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (java.io.IOException e) {
                // already gone
            } finally {
                process.destroyForcibly();
                out.close();
            }
        }
    }
}
