package io.qvirt.handler.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qvirt.launcher.control.VmControl;
import io.qvirt.launcher.migrate.LocalMigration;
import io.qvirt.launcher.migrate.Migration;
import io.qvirt.launcher.migrate.MigrationOptions;
import io.qvirt.launcher.migrate.MigrationResult;
import io.qvirt.launcher.migrate.QemuCommandLine;
import io.qvirt.launcher.migrate.QmpMigrationTarget;
import io.qvirt.qmp.QmpClient;
import io.qvirt.qmp.QmpOptions;
import io.qvirt.testdata.ConsoleWatcher;
import io.qvirt.testdata.GuestMarkers;
import io.qvirt.testdata.TestGuest;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real live migration of the test guest through the proxy, as two handlers would run it: two QEMUs started by
 * the real {@code launcher exec} (the source booted, the target with {@code QVIRT_MIGRATION_TARGET}, each in its
 * own runtime root as on its own node), the proxy server (target side) and a client session (source side) over
 * mutual TLS on loopback, and {@link Migration} run with the session's target and endpoints. The guest's own disk
 * (an emptyDisk in the VM's directory) is copied over the NBD relay; its root disk is shared (hostDisk). Afterwards
 * the guest answers on the target's console with state set on the source, the source is in postmigrate, and what
 * the guest wrote to the copied disk is in the target's file.
 */
class MigrationProxyIT {
    private static final Duration BOOT = Duration.ofSeconds(120);
    private static final String UID = "9d8c7b6a-5f4e-4d3c-8b2a-190817161514";

    @TempDir
    Path tmp;

    private final List<Process> launchers = new ArrayList<>();
    private final List<AutoCloseable> closers = new ArrayList<>();

    @AfterEach
    void cleanUp() throws Exception {
        for (int i = closers.size() - 1; i >= 0; i--) {
            try {
                closers.get(i).close();
            } catch (Exception e) {
                // Best effort: the processes below are ended regardless.
            }
        }
        for (Process p : launchers) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            assertTrue(p.waitFor(20, TimeUnit.SECONDS), "QEMU " + p.pid() + " reaped");
        }
    }

    /** Both QEMUs up, the source booted with state set in its shell and on its own disk, the proxy listening. */
    private record Rig(Process source, Process target, Path dirA, Path dirB, SocketChannel consoleA, ConsoleWatcher outA,
                       QmpClient qmpA, QmpClient qmpB, VmControl src, VmControl dst, List<String> copyNodes,
                       MigrationTestPki pki, MigrationProxyServer server, InetSocketAddress addr) {
    }

    private Rig rig() throws Exception {
        Path overlay = tmp.resolve("root.qcow2");
        run("qemu-img", "create", "-q", "-f", "qcow2", "-b", TestGuest.get().diskQcow2().toString(), "-F", "qcow2",
                overlay.toString());
        Path yaml = tmp.resolve("vm.yaml");
        Files.writeString(yaml, """
                apiVersion: kubevirt.io/v1
                kind: VirtualMachineInstance
                metadata:
                  name: mover
                  namespace: default
                spec:
                  terminationGracePeriodSeconds: 5
                  domain:
                    devices:
                      autoattachPodInterface: false
                      disks:
                      - name: root
                        disk: {bus: virtio}
                        bootOrder: 1
                      - name: scratch
                        disk: {bus: virtio}
                    resources:
                      requests:
                        memory: 128Mi
                  volumes:
                  - name: root
                    hostDisk: {path: %s, type: Disk}
                  - name: scratch
                    emptyDisk: {capacity: 16Mi}
                """.formatted(overlay));
        Path rootA = Files.createDirectories(tmp.resolve("a"));
        Path rootB = Files.createDirectories(tmp.resolve("b"));
        Path dirA = rootA.resolve("default/mover");
        Path dirB = rootB.resolve("default/mover");

        Process source = exec(yaml, rootA, null, "--autostart");
        waitFor(() -> Files.exists(dirA.resolve("console.sock")) && Files.exists(dirA.resolve("qmp.sock")),
                Duration.ofSeconds(60), "the source QEMU's sockets");
        SocketChannel consoleA = SocketChannel.open(UnixDomainSocketAddress.of(dirA.resolve("console.sock")));
        closers.add(consoleA);
        ConsoleWatcher outA = new ConsoleWatcher(Channels.newInputStream(consoleA), "source-console");
        closers.add(outA);
        outA.await(GuestMarkers.PROMPT_PATTERN, BOOT);
        type(consoleA, "X=$((6*7)); echo QVIRT-NBD-MARK > /dev/vdb; sync; echo set-$X-done\n");
        outA.await(Pattern.compile("set-42-done"), Duration.ofSeconds(30));

        Process target = exec(yaml, rootB, UID, null);
        // launcher.json is written after the sockets are made: wait for it too.
        waitFor(() -> Files.exists(dirB.resolve("qmp.sock")) && Files.exists(dirB.resolve("launcher.json")),
                Duration.ofSeconds(60), "the target QEMU's qmp.sock and launcher.json");
        assertEquals(UID, new com.fasterxml.jackson.databind.ObjectMapper().readTree(dirB.resolve("launcher.json")
                .toFile()).path("migrationTarget").asText());

        QmpClient qmpA = connect(dirA.resolve("qmp.sock"));
        QmpClient qmpB = connect(dirB.resolve("qmp.sock"));
        closers.add(qmpA);
        closers.add(qmpB);
        VmControl src = new VmControl(qmpA);
        VmControl dst = new VmControl(qmpB);

        // Target handler: its proxy (the migration is registered by each test).
        MigrationTestPki pki = MigrationTestPki.create(Files.createDirectories(tmp.resolve("pki")));
        MigrationProxyServer server = new MigrationProxyServer(MigrationTls.server(pki.handlerFiles()),
                new InetSocketAddress("127.0.0.1", 0));
        closers.add(server);
        InetSocketAddress addr = server.start();
        List<String> copyNodes = LocalMigration.ownDiskNodes(QemuCommandLine.ofProcess(source.pid()), dirA);
        assertEquals(1, copyNodes.size(), "the emptyDisk is copied, the hostDisk is shared: " + copyNodes);
        return new Rig(source, target, dirA, dirB, consoleA, outA, qmpA, qmpB, src, dst, copyNodes, pki, server, addr);
    }

    private MigrationProxyServer.Registration register(Rig r, BlockingQueue<MigrationProxyServer.TargetOutcome> ends) {
        MigrationProxyServer.Registration reg = r.server().register(UID, r.dirB().resolve("migration.sock"),
                r.dirB().resolve("nbd.sock"), new QmpMigrationTarget(r.dst(), r.dirB().resolve("migration.sock"),
                        r.dirB().resolve("nbd.sock")), ends::add);
        closers.add(reg);
        return reg;
    }

    private MigrationProxyClient.Session open(Rig r) {
        return MigrationProxyClient.open(MigrationTls.client(r.pki().handlerFiles()), "127.0.0.1", r.addr().getPort(),
                UID, tmp.resolve("px"), Duration.ofSeconds(10));
    }

    @Test
    void migratesARunningGuestThroughTheProxy() throws Exception {
        Rig r = rig();
        BlockingQueue<MigrationProxyServer.TargetOutcome> ends = new LinkedBlockingQueue<>();
        register(r, ends);
        // Source handler: a session, then the one-machine driver with the session's target and sockets.
        MigrationResult result;
        long forwarded;
        try (MigrationProxyClient.Session s = open(r)) {
            List<String> notes = new ArrayList<>();
            Migration m = new Migration(r.src(), s.target(), s.endpoints(), r.copyNodes(), MigrationOptions.defaults(),
                    new Migration.Listener() {
                        @Override
                        public void note(String line) {
                            notes.add(line);
                        }
                    });
            try {
                result = m.run();
            } catch (RuntimeException e) {
                s.finish(false);
                throw new AssertionError("migration failed: " + e.getMessage() + "; notes " + notes, e);
            }
            s.finish(true);
            forwarded = s.bytesForwarded();
        }
        assertEquals(MigrationProxyServer.TargetOutcome.Kind.SUCCEEDED, ends.poll(10, TimeUnit.SECONDS).kind());
        assertTrue(forwarded > 16L << 20, "RAM and disk went through the relays: " + forwarded + " bytes");
        assertTrue(result.totalMs() > 0 && result.diskCopyMs() > 0, String.valueOf(result));

        assertEquals("postmigrate", r.src().state().qemuStatus(), "the source is left for its handler to quit");
        assertEquals("running", r.dst().state().qemuStatus(), "the target was started (the source ran)");
        try (SocketChannel consoleB = SocketChannel.open(UnixDomainSocketAddress.of(r.dirB().resolve("console.sock")));
             ConsoleWatcher outB = new ConsoleWatcher(Channels.newInputStream(consoleB), "target-console")) {
            type(consoleB, "echo mark-$X-mark\n");
            outB.await(Pattern.compile("mark-42-mark"), Duration.ofSeconds(30));
        }

        // The target ends (its handler would quit it); its copy of the guest's own disk holds what the guest wrote.
        r.qmpA().execute("quit");
        r.qmpB().execute("quit");
        assertTrue(r.target().waitFor(20, TimeUnit.SECONDS) && r.source().waitFor(20, TimeUnit.SECONDS),
                "both QEMUs quit");
        Path raw = tmp.resolve("scratch.raw");
        run("qemu-img", "convert", "-O", "raw", r.dirB().resolve("disks/scratch.qcow2").toString(), raw.toString());
        String head = new String(Files.readAllBytes(raw), 0, 32, StandardCharsets.ISO_8859_1);
        assertTrue(head.startsWith("QVIRT-NBD-MARK"), "the emptyDisk came over NBD: " + head);
    }

    /**
     * The source handler's session ends while RAM is being sent (its handler died, the network went): the source
     * QEMU's migration fails, {@link Migration} restores it (the guest runs on, its state intact), and the target
     * handler is told LOST, so it removes its QEMU.
     */
    @Test
    void aSessionLostMidwayLeavesTheGuestOnTheSourceAndTheTargetLost() throws Exception {
        Rig r = rig();
        BlockingQueue<MigrationProxyServer.TargetOutcome> ends = new LinkedBlockingQueue<>();
        register(r, ends);
        MigrationProxyClient.Session s = open(r);
        closers.add(s);
        // 2 MiB/s: RAM takes seconds, so the cut comes while it is sent.
        MigrationOptions slow = new MigrationOptions(0, false, 2L << 20, Duration.ofMinutes(5), Duration.ofSeconds(1));
        Migration m = new Migration(r.src(), s.target(), s.endpoints(), r.copyNodes(), slow, new Migration.Listener() {
            private boolean cut;

            @Override
            public void progress(io.qvirt.qmp.MigrationInfo info) {
                // Once the target has taken RAM (so it is loading the stream, not still waiting for it).
                if (!cut && info.status().equals("active") && info.ramTransferred() > 1L << 20) {
                    cut = true;
                    s.close();
                }
            }
        });
        io.qvirt.launcher.migrate.MigrationException e = org.junit.jupiter.api.Assertions.assertThrows(
                io.qvirt.launcher.migrate.MigrationException.class, m::run);
        assertTrue(e.getMessage().endsWith("the VM runs on the source"), e.getMessage());
        MigrationProxyServer.TargetOutcome lost = ends.poll(20, TimeUnit.SECONDS);
        assertEquals(MigrationProxyServer.TargetOutcome.Kind.LOST, lost == null ? null : lost.kind(), String.valueOf(lost));
        waitFor(() -> r.src().state().qemuStatus().equals("running"), Duration.ofSeconds(20), "the source running again");
        type(r.consoleA(), "echo alive-$X-alive\n");
        r.outA().await(Pattern.compile("alive-42-alive"), Duration.ofSeconds(30));
        // QEMU ends a target whose incoming stream broke (load failed): its pod ends, as KubeVirt's does.
        assertTrue(r.target().waitFor(20, TimeUnit.SECONDS), "the target QEMU exits when its incoming migration fails");
    }

    private Process exec(Path yaml, Path root, String migrationUid, String extra) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(TestGuest.projectRoot().resolve("bin/launcher").toString(), "exec",
                yaml.toString(), "--accel", "tcg"));
        if (extra != null) {
            cmd.add(extra);
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(tmp.resolve(root.getFileName() + ".launcher.log").toFile());
        pb.environment().put("QVIRT_RUNTIME_ROOT", root.toString());
        if (migrationUid != null) {
            pb.environment().put("QVIRT_MIGRATION_TARGET", migrationUid);
        }
        Process p = pb.start();
        launchers.add(p);
        return p;
    }

    private static QmpClient connect(Path sock) throws Exception {
        return QmpClient.connect(sock, QmpOptions.defaults()).get(20, TimeUnit.SECONDS);
    }

    private static void type(SocketChannel console, String line) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(line.getBytes(StandardCharsets.US_ASCII));
        while (b.hasRemaining()) {
            console.write(b);
        }
    }

    private static void run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), String.join(" ", cmd) + ": " + out);
    }

    interface Check {
        boolean ok() throws Exception;
    }

    private static void waitFor(Check c, Duration d, String what) throws Exception {
        long until = System.nanoTime() + d.toNanos();
        while (!c.ok()) {
            if (System.nanoTime() - until > 0) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }
}
