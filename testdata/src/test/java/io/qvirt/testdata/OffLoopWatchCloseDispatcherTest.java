package io.qvirt.testdata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class OffLoopWatchCloseDispatcherTest {

    /** A stand-in for the mock's WatchEventsListener whose close waits, as it does when a send is in flight. */
    private static final class BlockingOnClose extends WebSocketListener {
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch closed = new CountDownLatch(1);
        final CountDownLatch failed = new CountDownLatch(1);
        final List<String> calls = new ArrayList<>();
        volatile Thread closedOn;

        @Override
        public void onMessage(WebSocket webSocket, String text) {
            calls.add("message " + text);
        }

        @Override
        public void onClosing(WebSocket webSocket, int code, String reason) {
            calls.add("closing " + code);
        }

        @Override
        public void onClosed(WebSocket webSocket, int code, String reason) {
            closedOn = Thread.currentThread();
            await();
            closed.countDown();
        }

        @Override
        public void onFailure(WebSocket webSocket, Throwable t, io.fabric8.mockwebserver.http.Response response) {
            await();
            failed.countDown();
        }

        private void await() {
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Test
    void closeAndFailureReturnAtOnceAndStillReachTheWatch() throws Exception {
        BlockingOnClose inner = new BlockingOnClose();
        WebSocketListener outer = new OffLoopWatchCloseDispatcher.OffLoopClose(inner);

        outer.onMessage(null, "x");
        outer.onClosing(null, 1000, "bye");
        assertEquals(List.of("message x", "closing 1000"), inner.calls, "forwarded in order, on the caller's thread");

        outer.onClosed(null, 1000, "bye");
        outer.onFailure(null, new RuntimeException("reset"), null);
        assertFalse(inner.closed.await(200, TimeUnit.MILLISECONDS), "the watch's close is still waiting");
        inner.release.countDown();
        assertTrue(inner.closed.await(5, TimeUnit.SECONDS), "onClosed reached the watch");
        assertTrue(inner.failed.await(5, TimeUnit.SECONDS), "onFailure reached the watch");
        assertTrue(inner.closedOn != Thread.currentThread(), "and ran off the caller's (event loop's) thread");
    }

    @Test
    void watchResponsesCarryTheWrapper() {
        OffLoopWatchCloseDispatcher d = new OffLoopWatchCloseDispatcher();
        WebSocketListener l = d.handleWatch("/api/v1/namespaces/default/pods?watch=true").getWebSocketListener();
        assertTrue(l instanceof OffLoopWatchCloseDispatcher.OffLoopClose, String.valueOf(l));
    }
}
