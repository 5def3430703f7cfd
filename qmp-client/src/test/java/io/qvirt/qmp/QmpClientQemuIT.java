package io.qvirt.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qvirt.testdata.ConsoleWatcher;
import io.qvirt.testdata.GuestMarkers;
import io.qvirt.testdata.TestGuest;
import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Against real {@code qemu-system-x86_64 -S -nodefaults} under TCG. */
class QmpClientQemuIT {
    private static final Duration T = Duration.ofSeconds(20);
    private static final QmpOptions OPTS = QmpOptions.defaults();

    private static <V> V get(CompletableFuture<V> f) throws Exception {
        return f.get(T.toSeconds(), TimeUnit.SECONDS);
    }

    private static Throwable failureOf(CompletableFuture<?> f) {
        return assertThrows(ExecutionException.class, () -> f.get(T.toSeconds(), TimeUnit.SECONDS)).getCause();
    }

    private static ObjectNode obj() {
        return JsonNodeFactory.instance.objectNode();
    }

    @Test
    void greetingCapabilitiesAndTypedQueries() throws Exception {
        try (QemuProcess q = new QemuProcess()) {
            Path sock = q.addQmpServer("qmp");
            q.arg("-drive", "if=none,id=drive0,format=qcow2,readonly=on,file=" + TestGuest.get().diskQcow2());
            q.start();
            try (QmpClient c = get(QmpClient.connect(sock, OPTS))) {
                QmpGreeting g = c.greeting();
                assertEquals(7, g.major());
                assertTrue(g.offers("oob"), g.capabilities().toString());
                assertTrue(c.oobEnabled());
                QemuVersion v = get(c.commands().queryVersion());
                assertEquals(g.major(), v.major());
                assertEquals(g.minor(), v.minor());
                assertFalse(get(c.commands().queryKvm()).enabled(), "tests run under TCG");
                List<CpuInfo> cpus = get(c.commands().queryCpusFast());
                assertEquals(1, cpus.size());
                assertEquals("x86_64", cpus.get(0).target());
                List<BlockInfo> blocks = get(c.commands().queryBlock());
                assertEquals("drive0", blocks.get(0).device());
                assertTrue(blocks.get(0).inserted().path("ro").asBoolean());
                assertTrue(get(c.commands().humanMonitorCommand("info status")).contains("VM status: paused"));
                get(c.commands().systemReset());
            }
        }
    }

    @Test
    void statusBeforeAndAfterContWithStopAndResumeEvents() throws Exception {
        try (QemuProcess q = new QemuProcess()) {
            Path sock = q.addQmpServer("qmp");
            q.start();
            try (QmpClient c = get(QmpClient.connect(sock, OPTS))) {
                BlockingQueue<String> seen = new LinkedBlockingQueue<>();
                c.subscribe(e -> e.name().equals("STOP") || e.name().equals("RESUME"), e -> seen.add(e.name()));
                assertEquals(new StatusInfo("prelaunch", false), get(c.commands().queryStatus()));

                EventWaiter resumed = c.expectEvent("RESUME", null);
                get(c.commands().cont());
                QmpEvent r = resumed.await(T);
                assertTrue(r.timestamp().getEpochSecond() > 1_600_000_000L, r.timestamp().toString());
                assertEquals(new StatusInfo("running", true), get(c.commands().queryStatus()));

                EventWaiter stopped = c.expectEvent("STOP", null);
                get(c.commands().stop());
                stopped.await(T);
                assertEquals(new StatusInfo("paused", false), get(c.commands().queryStatus()));
                assertEquals("RESUME", seen.poll(10, TimeUnit.SECONDS));
                assertEquals("STOP", seen.poll(10, TimeUnit.SECONDS));
            }
        }
    }

    @Test
    void unknownCommandIsCommandNotFound() throws Exception {
        try (QemuProcess q = new QemuProcess()) {
            Path sock = q.addQmpServer("qmp");
            q.start();
            try (QmpClient c = get(QmpClient.connect(sock, OPTS))) {
                QmpRemoteException e = assertInstanceOf(QmpRemoteException.class,
                        failureOf(c.execute("no-such-command")));
                assertEquals("CommandNotFound", e.errorClass());
                assertTrue(e.description().contains("no-such-command"), e.description());
                QmpRemoteException bad = assertInstanceOf(QmpRemoteException.class,
                        failureOf(c.execute("query-status", obj().put("bogus", 1))));
                assertEquals("GenericError", bad.errorClass());
                assertEquals("prelaunch", get(c.commands().queryStatus()).status(), "session still usable");
            }
        }
    }

    @Test
    void systemPowerdownShutsTheTestGuestDown() throws Exception {
        TestGuest guest = TestGuest.get();
        try (QemuProcess q = new QemuProcess()) {
            Path sock = q.addQmpServer("qmp");
            q.arg("-no-shutdown", "-kernel", guest.kernel().toString(), "-initrd", guest.initrd().toString(),
                    "-append", TestGuest.KERNEL_ARGS, "-serial", "stdio");
            q.startWithStdout();
            try (ConsoleWatcher console = new ConsoleWatcher(q.stdout(), "powerdown");
                 QmpClient c = get(QmpClient.connect(sock, OPTS))) {
                get(c.commands().cont());
                console.await(GuestMarkers.BOOTED, Duration.ofSeconds(60));
                // acpid starts just before the shell: the prompt means the power button is handled.
                console.await(GuestMarkers.PROMPT_PATTERN, Duration.ofSeconds(60));
                EventWaiter shutdown = c.expectEvent("SHUTDOWN", e -> e.data().path("guest").asBoolean());
                get(c.commands().systemPowerdown());
                QmpEvent e = shutdown.await(Duration.ofSeconds(60));
                assertEquals("guest-shutdown", e.data().path("reason").asText(), e.data().toString());
                console.await(GuestMarkers.POWEROFF, Duration.ofSeconds(5));
                assertEquals("shutdown", get(c.commands().queryStatus()).status());
                get(c.commands().quit());
                assertTrue(q.awaitExit(Duration.ofSeconds(10)), "QEMU exits on quit");
                assertInstanceOf(QmpDisconnectedException.class, get(c.disconnected()));
            }
        }
    }

    @Test
    void fdPassingWithGetfdAndAddFdVerifiedByQueryFdsets() throws Exception {
        int[] pipe = Native.pipe();
        try (QemuProcess q = new QemuProcess()) {
            Path sock = q.addQmpServer("qmp");
            q.start();
            try (QmpClient c = get(QmpClient.connect(sock, OPTS))) {
                get(c.commands().getfd("qvirt-pipe", pipe[1]));
                JsonNode added = get(c.commands().addFd(null, "qvirt-opaque", pipe[0]));
                int fdset = added.get("fdset-id").asInt();
                int qemuFd = added.get("fd").asInt();
                JsonNode sets = get(c.commands().queryFdsets());
                boolean found = false;
                for (JsonNode s : sets) {
                    if (s.get("fdset-id").asInt() == fdset) {
                        JsonNode fd = s.get("fds").get(0);
                        assertEquals(qemuFd, fd.get("fd").asInt());
                        assertEquals("qvirt-opaque", fd.get("opaque").asText());
                        found = true;
                    }
                }
                assertTrue(found, "fdset " + fdset + " in " + sets);
                // The named fd exists exactly once: QEMU got it, with no stray byte in the stream.
                get(c.commands().closefd("qvirt-pipe"));
                QmpRemoteException gone = assertInstanceOf(QmpRemoteException.class,
                        failureOf(c.commands().closefd("qvirt-pipe")));
                assertEquals("GenericError", gone.errorClass());
                // Several fd commands interleaved with ordinary ones keep their order.
                List<CompletableFuture<?>> mixed = new ArrayList<>();
                for (int i = 0; i < 6; i++) {
                    mixed.add(c.commands().getfd("fd" + i, pipe[1]));
                    mixed.add(c.commands().queryStatus());
                }
                for (CompletableFuture<?> f : mixed) {
                    get(f);
                }
                for (int i = 0; i < 6; i++) {
                    get(c.commands().closefd("fd" + i));
                }
                assertEquals(0, c.lateReplies());
                // A closed descriptor is refused locally with errno, and the session survives.
                QmpException bad = assertInstanceOf(QmpException.class,
                        failureOf(c.executeWithFd("getfd", obj().put("fdname", "bad"), 987654)));
                assertTrue(bad.getMessage().contains("EBADF"), bad.getMessage());
                assertEquals("prelaunch", get(c.commands().queryStatus()).status());
            }
        } finally {
            Native.close(pipe[0]);
            Native.close(pipe[1]);
        }
    }

    /**
     * pmemsave opens its file on QEMU's main thread; a FIFO nobody reads blocks that open, so the
     * command stays in flight as long as we like. yank via exec-oob is served by the monitor I/O thread.
     */
    @Test
    void execOobYankIsAnsweredWhileASlowCommandBlocksTheMainLoop() throws Exception {
        try (QemuProcess q = new QemuProcess()) {
            Path sock = q.addQmpServer("qmp");
            q.start();
            Path fifo = q.dir.resolve("slow.fifo");
            assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
            try (QmpClient c = get(QmpClient.connect(sock, OPTS))) {
                assertTrue(c.oobEnabled());
                CompletableFuture<JsonNode> slow = c.execute("pmemsave",
                        obj().put("val", 0).put("size", 4096).put("filename", fifo.toString()));
                CompletableFuture<JsonNode> queued = c.execute("query-status");
                Thread.sleep(300);
                assertFalse(slow.isDone(), "pmemsave should be blocked on the FIFO");
                JsonNode yank = get(c.executeOob("yank", obj().set("instances", JsonNodeFactory.instance.arrayNode())));
                assertTrue(yank.isObject());
                assertFalse(slow.isDone(), "oob reply overtook the in-flight command");
                assertFalse(queued.isDone(), "in-band commands wait behind the slow one");
                int total = 0;
                // A plain read loop: FileInputStream.readAllBytes seeks, which a FIFO refuses.
                try (InputStream in = new FileInputStream(fifo.toFile())) {
                    byte[] buf = new byte[8192];
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        total += n;
                    }
                }
                get(slow);
                assertEquals(4096, total);
                assertEquals("prelaunch", get(queued).get("status").asText());
            }
        }
    }

    @Test
    void killingQemuFailsAllPendingAtOnce() throws Exception {
        try (QemuProcess q = new QemuProcess()) {
            Path sock = q.addQmpServer("qmp");
            q.start();
            Path fifo = q.dir.resolve("block.fifo");
            assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
            try (QmpClient c = get(QmpClient.connect(sock, OPTS))) {
                List<CompletableFuture<JsonNode>> pending = new ArrayList<>();
                pending.add(c.execute("pmemsave", obj().put("val", 0).put("size", 16).put("filename", fifo.toString())));
                for (int i = 0; i < 12; i++) {
                    pending.add(c.execute("query-status"));
                }
                EventWaiter w = c.expectEvent("SHUTDOWN", null);
                Thread.sleep(200);
                assertTrue(pending.stream().noneMatch(CompletableFuture::isDone));
                q.kill();
                for (CompletableFuture<JsonNode> f : pending) {
                    assertInstanceOf(QmpDisconnectedException.class, failureOf(f));
                }
                assertInstanceOf(QmpDisconnectedException.class, assertThrows(QmpException.class, () -> w.await(T)));
                assertInstanceOf(QmpDisconnectedException.class, get(c.disconnected()));
                assertFalse(c.isOpen());
            }
        }
    }

    @Test
    void manyPipelinedCommandsAreAnsweredInOrder() throws Exception {
        try (QemuProcess q = new QemuProcess()) {
            Path sock = q.addQmpServer("qmp");
            q.start();
            try (QmpClient c = get(QmpClient.connect(sock, OPTS))) {
                List<Integer> order = Collections.synchronizedList(new ArrayList<>());
                List<CompletableFuture<JsonNode>> fs = new ArrayList<>();
                for (int i = 0; i < 40; i++) {
                    int n = i;
                    CompletableFuture<JsonNode> f = i % 2 == 0 ? c.execute("query-status") : c.execute("query-version");
                    // A direct executor records the order in which replies completed on the event loop.
                    f.whenCompleteAsync((v, e) -> order.add(n), Runnable::run);
                    fs.add(f);
                }
                for (int i = 0; i < fs.size(); i++) {
                    JsonNode v = get(fs.get(i));
                    assertTrue(i % 2 == 0 ? v.has("status") : v.has("qemu"), i + ": " + v);
                }
                Thread.sleep(50);
                List<Integer> expected = new ArrayList<>();
                for (int i = 0; i < 40; i++) {
                    expected.add(i);
                }
                assertEquals(expected, order);
            }
        }
    }

    @Test
    void severalClientsOnOneQemuEachSeeEvents() throws Exception {
        try (QemuProcess q = new QemuProcess()) {
            Path a = q.addQmpServer("qmpa");
            Path b = q.addQmpServer("qmpb");
            q.start();
            try (QmpClient ca = get(QmpClient.connect(a, OPTS)); QmpClient cb = get(QmpClient.connect(b, OPTS))) {
                EventWaiter seenByA = ca.expectEvent("RESUME", null);
                EventWaiter seenByB = cb.expectEvent("RESUME", null);
                get(cb.commands().cont());
                seenByA.await(T);
                seenByB.await(T);
                assertTrue(get(ca.commands().queryStatus()).running());
                cb.close();
                assertFalse(cb.isOpen());
                assertEquals("running", get(ca.commands().queryStatus()).status(), "A unaffected by B closing");
            }
        }
    }

    @Test
    void connectFdOverASocketpairQemuInherited() throws Exception {
        int[] pair = Native.socketPair();
        try (QemuProcess q = new QemuProcess()) {
            q.addQmpFd("qmp", pair[1]);
            q.spawnInheriting();
            Native.close(pair[1]);
            pair[1] = -1;
            QmpClient c = get(QmpClient.connectFd(pair[0], OPTS));
            pair[0] = -1;
            try (c) {
                assertEquals(7, c.greeting().major());
                assertEquals("prelaunch", get(c.commands().queryStatus()).status());
                get(c.commands().quit());
                assertTrue(q.awaitExit(Duration.ofSeconds(10)), q.logText());
            }
            assertInstanceOf(QmpDisconnectedException.class, get(c.disconnected()));
        } finally {
            for (int fd : pair) {
                if (fd >= 0) {
                    Native.close(fd);
                }
            }
        }
    }

    @Test
    void connectFdWithABadDescriptorFailsTyped() {
        Throwable t = failureOf(QmpClient.connectFd(999_999, OPTS));
        assertInstanceOf(QmpException.class, t);
        assertTrue(t.getMessage().contains("EBADF"), t.getMessage());
    }

    @Test
    void listenAndAcceptAQemuThatConnectsOut() throws Exception {
        try (QemuProcess q = new QemuProcess()) {
            Path listening = q.dir.resolve("listen.sock");
            try (QmpListener l = QmpClient.listen(listening, OPTS)) {
                q.addQmpClient("qmp", listening);
                q.start();
                try (QmpClient c = get(l.accept())) {
                    assertEquals("prelaunch", get(c.commands().queryStatus()).status());
                    assertTrue(c.oobEnabled());
                }
                Throwable none = failureOf(l.accept(Duration.ofMillis(200)));
                assertInstanceOf(QmpTimeoutException.class, none);
            }
            assertFalse(java.nio.file.Files.exists(listening), "listener removes its socket file");
        }
    }
}
