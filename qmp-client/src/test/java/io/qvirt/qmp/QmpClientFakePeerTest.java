package io.qvirt.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Session behaviour against {@link FakeQmpServer}, for the cases real QEMU cannot produce on demand. */
class QmpClientFakePeerTest {
    private static final Duration T = Duration.ofSeconds(10);

    private static Throwable failureOf(CompletableFuture<?> f) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
        return e.getCause();
    }

    private static QmpClient connect(FakeQmpServer s, QmpOptions o) throws Exception {
        return QmpClient.connect(s.socket(), o).get(10, TimeUnit.SECONDS);
    }

    @Test
    void negotiatesOobWhenOfferedAndAskedAndMatchesReplies() throws Exception {
        CompletableFuture<JsonNode> capsSeen = new CompletableFuture<>();
        try (FakeQmpServer s = new FakeQmpServer(p -> {
            capsSeen.complete(p.handshake(FakeQmpServer.GREETING_OOB));
            JsonNode cmd = p.read();
            p.reply(cmd, "{\"status\": \"paused\", \"running\": false}");
            p.read();
        }); QmpClient c = connect(s, QmpOptions.defaults())) {
            JsonNode caps = capsSeen.get(5, TimeUnit.SECONDS);
            assertEquals("qmp_capabilities", caps.get("execute").asText());
            assertEquals("oob", caps.at("/arguments/enable/0").asText());
            assertTrue(c.oobEnabled());
            assertEquals("7.2.0", c.greeting().version());
            StatusInfo st = c.commands().queryStatus().get(5, TimeUnit.SECONDS);
            assertEquals(new StatusInfo("paused", false), st);
        }
    }

    @Test
    void oobNotRequestedWhenDisabledAndExecOobRefused() throws Exception {
        CompletableFuture<JsonNode> capsSeen = new CompletableFuture<>();
        try (FakeQmpServer s = new FakeQmpServer(p -> {
            capsSeen.complete(p.handshake(FakeQmpServer.GREETING_OOB));
            p.read();
        }); QmpClient c = connect(s, QmpOptions.defaults().withEnableOob(false))) {
            assertNull(capsSeen.get(5, TimeUnit.SECONDS).get("arguments"));
            assertFalse(c.oobEnabled());
            Throwable t = failureOf(c.executeOob("yank"));
            assertInstanceOf(QmpException.class, t);
            assertTrue(t.getMessage().contains("not negotiated"), t.getMessage());
        }
    }

    @Test
    void fakeServerThatGreetsThenHangsTimesOutTheConnect() throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        try (FakeQmpServer s = new FakeQmpServer(p -> {
            p.send(FakeQmpServer.GREETING_OOB);
            p.read();
            done.await(10, TimeUnit.SECONDS);
        })) {
            long t0 = System.nanoTime();
            Throwable t = failureOf(QmpClient.connect(s.socket(),
                    QmpOptions.defaults().withConnectTimeout(Duration.ofMillis(300))));
            assertInstanceOf(QmpTimeoutException.class, t);
            assertTrue(t.getMessage().contains("qmp_capabilities"), t.getMessage());
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5));
            done.countDown();
        }
    }

    @Test
    void fakeServerSendingGarbageIsAProtocolError() throws Exception {
        try (FakeQmpServer s = new FakeQmpServer(p -> {
            p.sendRaw("SSH-2.0-OpenSSH_9.2\r\n".getBytes());
            Thread.sleep(2000);
        })) {
            Throwable t = failureOf(QmpClient.connect(s.socket(), QmpOptions.defaults()));
            assertInstanceOf(QmpProtocolException.class, t);
            assertTrue(t.getMessage().contains("expected a JSON object"), t.getMessage());
        }
    }

    @Test
    void connectToMissingSocketIsDisconnected() {
        Throwable t = failureOf(QmpClient.connect(java.nio.file.Path.of("/nonexistent/qmp.sock"),
                QmpOptions.defaults()));
        assertInstanceOf(QmpDisconnectedException.class, t);
        assertTrue(t.getMessage().contains("/nonexistent/qmp.sock"), t.getMessage());
    }

    @Test
    void fakeServerClosingMidFrameFailsPendingWithTruncatedJson() throws Exception {
        try (FakeQmpServer s = new FakeQmpServer(p -> {
            p.handshake(FakeQmpServer.GREETING_OOB);
            p.read();
            p.sendRaw("{\"return\": {\"status\": \"runn".getBytes());
            p.close();
        }); QmpClient c = connect(s, QmpOptions.defaults())) {
            Throwable t = failureOf(c.execute("query-status"));
            assertInstanceOf(QmpProtocolException.class, t);
            assertTrue(t.getMessage().contains("truncated"), t.getMessage());
            assertSame(t, c.disconnected().get(5, TimeUnit.SECONDS));
            assertFalse(c.isOpen());
        }
    }

    @Test
    void fakeServerReplyingWithUnknownIdIsAProtocolErrorNotAWrongDelivery() throws Exception {
        try (FakeQmpServer s = new FakeQmpServer(p -> {
            p.handshake(FakeQmpServer.GREETING_OOB);
            p.read();
            p.send("{\"return\": {\"stolen\": true}, \"id\": 424242}");
            p.read();
        }); QmpClient c = connect(s, QmpOptions.defaults())) {
            Throwable t = failureOf(c.execute("query-status"));
            assertInstanceOf(QmpProtocolException.class, t);
            assertTrue(t.getMessage().contains("424242"), t.getMessage());
            assertInstanceOf(QmpDisconnectedException.class, failureOf(c.execute("query-status")));
        }
    }

    @Test
    void fakeServerReplyWithoutIdIsAProtocolError() throws Exception {
        try (FakeQmpServer s = new FakeQmpServer(p -> {
            p.handshake(FakeQmpServer.GREETING_OOB);
            p.read();
            p.send("{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, bad\"}}");
            p.read();
        }); QmpClient c = connect(s, QmpOptions.defaults())) {
            Throwable t = failureOf(c.execute("query-status"));
            assertInstanceOf(QmpProtocolException.class, t);
            assertTrue(t.getMessage().contains("without an id") && t.getMessage().contains("JSON parse error"),
                    t.getMessage());
        }
    }

    @Test
    void fakeServerFrameOverTheLimitClosesWithFrameTooLarge() throws Exception {
        try (FakeQmpServer s = new FakeQmpServer(p -> {
            p.handshake(FakeQmpServer.GREETING_OOB);
            JsonNode cmd = p.read();
            p.reply(cmd, "\"" + "x".repeat(4096) + "\"");
            p.read();
        }); QmpClient c = connect(s, QmpOptions.defaults().withMaxFrameBytes(1024))) {
            Throwable t = failureOf(c.execute("human-monitor-command"));
            QmpFrameTooLargeException e = assertInstanceOf(QmpFrameTooLargeException.class, t);
            assertEquals(1024, e.limit());
            assertInstanceOf(QmpFrameTooLargeException.class, c.disconnected().get(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void timedOutCommandsLateReplyIsDroppedAndCountedNeverMisdelivered() throws Exception {
        try (FakeQmpServer s = new FakeQmpServer(p -> {
            p.handshake(FakeQmpServer.GREETING_OOB);
            JsonNode slow = p.read();
            Thread.sleep(600);
            p.reply(slow, "\"late\"");
            JsonNode next = p.read();
            p.reply(next, "\"mine\"");
            p.read();
        }); QmpClient c = connect(s, QmpOptions.defaults().withCommandTimeout(Duration.ofMillis(200)))) {
            Throwable t = failureOf(c.execute("slow"));
            assertInstanceOf(QmpTimeoutException.class, t);
            assertTrue(t.getMessage().contains("slow"), t.getMessage());
            Thread.sleep(700);
            assertEquals(1, c.lateReplies());
            assertEquals("mine", c.execute("next", null, T).get(5, TimeUnit.SECONDS).asText());
            assertTrue(c.isOpen());
        }
    }

    @Test
    void atMostMaxInFlightAreSentAndTheRestWaitInOrder() throws Exception {
        List<Integer> outstandingSeen = Collections.synchronizedList(new ArrayList<>());
        try (FakeQmpServer s = new FakeQmpServer(p -> {
            p.handshake(FakeQmpServer.GREETING_OOB);
            List<JsonNode> pending = new ArrayList<>();
            int answered = 0;
            while (answered < 10) {
                // Take everything the client is willing to send right now.
                while (p.moreWithin(Duration.ofMillis(150))) {
                    pending.add(p.read());
                }
                outstandingSeen.add(pending.size());
                JsonNode cmd = pending.remove(0);
                p.reply(cmd, "\"" + cmd.get("execute").asText() + "\"");
                answered++;
            }
            p.read();
        }); QmpClient c = connect(s, QmpOptions.defaults().withMaxInFlight(3))) {
            List<CompletableFuture<JsonNode>> fs = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                fs.add(c.execute("cmd-" + i));
            }
            for (int i = 0; i < 10; i++) {
                assertEquals("cmd-" + i, fs.get(i).get(10, TimeUnit.SECONDS).asText());
            }
            assertEquals(3, outstandingSeen.stream().mapToInt(Integer::intValue).max().orElseThrow(),
                    "outstanding per round: " + outstandingSeen);
            assertEquals(3, outstandingSeen.get(0));
        }
    }

    @Test
    void peerGoingAwayFailsAllPendingAtOnce() throws Exception {
        CountDownLatch gotFive = new CountDownLatch(1);
        try (FakeQmpServer s = new FakeQmpServer(p -> {
            p.handshake(FakeQmpServer.GREETING_OOB);
            for (int i = 0; i < 5; i++) {
                p.read();
            }
            gotFive.countDown();
            p.close();
        }); QmpClient c = connect(s, QmpOptions.defaults().withMaxInFlight(5))) {
            List<CompletableFuture<JsonNode>> fs = new ArrayList<>();
            for (int i = 0; i < 7; i++) {
                fs.add(c.execute("cmd-" + i));
            }
            EventWaiter w = c.expectEvent("NEVER", null);
            assertTrue(gotFive.await(5, TimeUnit.SECONDS));
            for (CompletableFuture<JsonNode> f : fs) {
                assertInstanceOf(QmpDisconnectedException.class, failureOf(f));
            }
            assertInstanceOf(QmpDisconnectedException.class, assertThrows(QmpException.class,
                    () -> w.await(T)));
            assertInstanceOf(QmpDisconnectedException.class, c.disconnected().get(5, TimeUnit.SECONDS));
            assertInstanceOf(QmpDisconnectedException.class, failureOf(c.execute("after")));
        }
    }

    @Test
    void remoteErrorCarriesClassAndDescription() throws Exception {
        try (FakeQmpServer s = new FakeQmpServer(p -> {
            p.handshake(FakeQmpServer.GREETING_OOB);
            JsonNode cmd = p.read();
            p.send("{\"error\": {\"class\": \"DeviceNotFound\", \"desc\": \"Device 'x' not found\"}, \"id\": "
                    + cmd.get("id") + "}");
            p.read();
        }); QmpClient c = connect(s, QmpOptions.defaults())) {
            QmpRemoteException e = assertInstanceOf(QmpRemoteException.class, failureOf(c.execute("device_del")));
            assertEquals("DeviceNotFound", e.errorClass());
            assertEquals("Device 'x' not found", e.description());
            assertEquals("device_del", e.command());
        }
    }

    @Test
    void eventsAreDeliveredInOrderOffTheEventLoop() throws Exception {
        int n = 2000;
        CountDownLatch go = new CountDownLatch(1);
        try (FakeQmpServer s = new FakeQmpServer(p -> {
            p.handshake(FakeQmpServer.GREETING_OOB);
            go.await(5, TimeUnit.SECONDS);
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < n; i++) {
                sb.append("{\"event\": \"").append(i % 2 == 0 ? "EVEN" : "ODD").append("\", \"data\": {\"seq\": ")
                        .append(i).append("}, \"timestamp\": {\"seconds\": 1, \"microseconds\": 2}}\r\n");
            }
            p.sendRaw(sb.toString().getBytes());
            p.read();
        }); QmpClient c = connect(s, QmpOptions.defaults())) {
            List<Integer> all = Collections.synchronizedList(new ArrayList<>());
            List<Integer> even = Collections.synchronizedList(new ArrayList<>());
            List<String> threads = Collections.synchronizedList(new ArrayList<>());
            CountDownLatch last = new CountDownLatch(1);
            c.subscribe(e -> true, e -> {
                all.add(e.data().get("seq").asInt());
                threads.add(Thread.currentThread().getName());
                if (all.size() == n) {
                    last.countDown();
                }
            });
            QmpSubscription evenSub = c.subscribe("EVEN", e -> even.add(e.data().get("seq").asInt()));
            go.countDown();
            assertTrue(last.await(10, TimeUnit.SECONDS), "events received: " + all.size());
            for (int i = 0; i < n; i++) {
                assertEquals(i, all.get(i));
            }
            assertEquals(n / 2, even.size());
            assertTrue(even.stream().allMatch(x -> x % 2 == 0));
            assertTrue(threads.stream().noneMatch(t -> t.startsWith("qmp-epoll")), threads.get(0));
            evenSub.close();
            assertFalse(evenSub.isOpen());
        }
    }

    @Test
    void expectEventCannotMissAnEventThatRacesTheReply() throws Exception {
        try (FakeQmpServer s = new FakeQmpServer(p -> {
            p.handshake(FakeQmpServer.GREETING_OOB);
            for (int round = 0; round < 50; round++) {
                JsonNode cmd = p.read();
                // The event goes out before the reply, in the same write, as QEMU does for stop.
                p.sendRaw(("{\"event\": \"X\", \"data\": {\"n\": 1}, \"timestamp\": {\"seconds\": 1, \"microseconds\": 0}}\r\n"
                        + "{\"event\": \"X\", \"data\": {\"n\": " + round + "}, \"timestamp\": {\"seconds\": 1, \"microseconds\": 0}}\r\n"
                        + "{\"return\": {}, \"id\": " + cmd.get("id") + "}\r\n").getBytes());
            }
            p.read();
        }); QmpClient c = connect(s, QmpOptions.defaults())) {
            for (int round = 0; round < 50; round++) {
                int want = round;
                EventWaiter w = c.expectEvent("X", e -> e.data().get("n").asInt() == want && want != 1);
                c.execute("trigger").get(5, TimeUnit.SECONDS);
                if (round == 1) {
                    // Round 1's only n=1 events were consumed? No: the filter refuses them on purpose.
                    assertThrows(QmpTimeoutException.class, () -> w.await(Duration.ofMillis(100)));
                } else {
                    assertEquals(want, w.await(T).data().get("n").asInt());
                }
            }
        }
    }

    @Test
    void dependentStagesRunOffTheEventLoopSoBlockingInThemIsSafe() throws Exception {
        try (FakeQmpServer s = new FakeQmpServer(p -> {
            p.handshake(FakeQmpServer.GREETING_OOB);
            for (int i = 0; i < 2; i++) {
                JsonNode cmd = p.read();
                p.reply(cmd, "\"" + cmd.get("execute").asText() + "\"");
            }
            p.read();
        }); QmpClient c = connect(s, QmpOptions.defaults())) {
            CompletableFuture<String> chained = c.execute("a").thenApply(v ->
                    Thread.currentThread().getName() + "|" + c.execute("b").join().asText());
            String r = chained.get(5, TimeUnit.SECONDS);
            assertFalse(r.startsWith("qmp-epoll"), r);
            assertTrue(r.endsWith("|b"), r);
        }
    }
}
