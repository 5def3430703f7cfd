package io.qvirt.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The API server closes the controller's VM watch (as a real one does at its watch timeout, or on a
 * restart). Against fabric8's CRUD mock API server (not a real kube-apiserver), wrapped in a dispatcher that
 * keeps hold of the VM watch websockets to close them from the server side, and refuses the re-watch (503)
 * while a VM is created, so the event falls in the gap between the two watches.
 */
class WatchResumeTest {
    /** Delegates everything to the CRUD dispatcher; VM watches are recorded, re-watches can be held. */
    static final class ClosingDispatcher extends Dispatcher {
        final Dispatcher crud;
        final List<WebSocket> vmWatches = new CopyOnWriteArrayList<>();
        final AtomicInteger vmWatchRequests = new AtomicInteger();
        /** While set, VM re-watches are answered 503, as by an API server restarting. */
        volatile boolean refuseRewatch;

        ClosingDispatcher(Dispatcher crud) {
            this.crud = crud;
        }

        @Override
        public MockResponse dispatch(RecordedRequest request) {
            String path = request.getPath();
            boolean vmWatch = path.contains("/virtualmachines?") && path.contains("watch=true");
            if (!vmWatch) {
                return crud.dispatch(request);
            }
            // The dispatcher runs on the mock's only event loop: it must answer, never wait.
            if (vmWatchRequests.incrementAndGet() > 1 && refuseRewatch) {
                return new MockResponse().setResponseCode(503).setBody("{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                        + "\"status\":\"Failure\",\"code\":503,\"reason\":\"ServiceUnavailable\"}");
            }
            MockResponse r = crud.dispatch(request);
            WebSocketListener inner = r.getWebSocketListener();
            if (inner == null) {
                return r;
            }
            return r.withWebSocketUpgrade(new WebSocketListener() {
                @Override
                public void onOpen(WebSocket ws, Response response) {
                    vmWatches.add(ws);
                    inner.onOpen(ws, response);
                }

                @Override
                public void onMessage(WebSocket ws, String text) {
                    inner.onMessage(ws, text);
                }

                @Override
                public void onClosing(WebSocket ws, int code, String reason) {
                    inner.onClosing(ws, code, reason);
                }

                @Override
                public void onClosed(WebSocket ws, int code, String reason) {
                    vmWatches.remove(ws);
                    inner.onClosed(ws, code, reason);
                }

                @Override
                public void onFailure(WebSocket ws, Throwable t, Response response) {
                    vmWatches.remove(ws);
                    inner.onFailure(ws, t, response);
                }
            });
        }

        @Override
        public void shutdown() {
            crud.shutdown();
        }
    }

    @Test
    void watchClosedByServerResumesWithoutLosingEvents() throws Exception {
        ClosingDispatcher[] d = new ClosingDispatcher[1];
        MockApi api = new MockApi(crud -> d[0] = new ClosingDispatcher(crud));
        try (ControllerHarness h = new ControllerHarness(api, ControllerHarness.options())) {
            VirtualMachine before = MockApi.seedVm();
            before.getMetadata().setName("before");
            before.getSpec().setRunning(true);
            h.create(before);
            h.awaitVmi("before", null);
            assertEquals(1, d[0].vmWatchRequests.get());
            assertEquals(1, d[0].vmWatches.size(), "the controller's VM watch is open");

            d[0].refuseRewatch = true;
            for (WebSocket ws : d[0].vmWatches) {
                ws.close(1000, "watch closed by server");
            }
            MockApi.await(ControllerHarness.WAIT, "the controller tries to re-watch", () -> d[0].vmWatchRequests.get() >= 2);
            // In the gap: the old watch is closed, the new one refused so far.
            VirtualMachine during = MockApi.seedVm();
            during.getMetadata().setName("during");
            during.getSpec().setRunning(true);
            h.create(during);
            d[0].refuseRewatch = false;

            VirtualMachineInstance vmi = h.awaitVmi("during", null);
            assertEquals("during", vmi.getMetadata().getName());
            VirtualMachine after = MockApi.seedVm();
            after.getMetadata().setName("after");
            after.getSpec().setRunning(true);
            h.create(after);
            h.awaitVmi("after", null);
            assertTrue(d[0].vmWatchRequests.get() >= 2);
        }
    }
}
