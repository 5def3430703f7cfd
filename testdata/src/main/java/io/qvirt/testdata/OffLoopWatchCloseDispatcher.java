package io.qvirt.testdata;

import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.mockwebserver.http.ByteString;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;
import java.util.List;

/**
 * fabric8's CRUD mock API server (FAKE Kubernetes for tests and the rig), with one defect of its watch
 * handling worked around: a watch's close handling no longer blocks the mock's event loop.
 *
 * <p>Why: in fabric8 7.9.0 (and 8.0.0) the mock's {@code WatchEventsListener.onClosed} runs on a Vert.x event
 * loop and waits (up to a minute) for the watch's send executor to end. When a client closes a watch while an
 * event is being sent on it, that executor is itself waiting (up to 30 s) for the write to complete, which only
 * that same event loop can do. The loop stalls ~30 s, and every request on its other connections, a new
 * informer's LIST among them, times out. {@code VmiDriverIT}'s handler restarts hit this in CI. Here the close
 * callbacks run on their own thread, so the loop completes the write and the executor ends at once.
 */
public final class OffLoopWatchCloseDispatcher extends KubernetesCrudDispatcher {

    public OffLoopWatchCloseDispatcher() {
        super(List.of());
    }

    public OffLoopWatchCloseDispatcher(List<CustomResourceDefinitionContext> crdContexts) {
        super(crdContexts);
    }

    @Override
    public MockResponse handleWatch(String path) {
        MockResponse response = super.handleWatch(path);
        WebSocketListener listener = response.getWebSocketListener();
        return listener == null ? response : response.withWebSocketUpgrade(new OffLoopClose(listener));
    }

    /** Forwards every callback; the two that end the watch (and may wait) run on a thread of their own. */
    static final class OffLoopClose extends WebSocketListener {
        private final WebSocketListener delegate;

        OffLoopClose(WebSocketListener delegate) {
            this.delegate = delegate;
        }

        @Override
        public void onBeforeAccept(WebSocket webSocket, Response response) {
            delegate.onBeforeAccept(webSocket, response);
        }

        @Override
        public void onOpen(WebSocket webSocket, Response response) {
            delegate.onOpen(webSocket, response);
        }

        @Override
        public void onMessage(WebSocket webSocket, String text) {
            delegate.onMessage(webSocket, text);
        }

        @Override
        public void onMessage(WebSocket webSocket, ByteString bytes) {
            delegate.onMessage(webSocket, bytes);
        }

        @Override
        public void onMessage(WebSocket webSocket, byte[] bytes) {
            delegate.onMessage(webSocket, bytes);
        }

        @Override
        public void onClosing(WebSocket webSocket, int code, String reason) {
            delegate.onClosing(webSocket, code, reason);
        }

        @Override
        public void onClosed(WebSocket webSocket, int code, String reason) {
            offLoop(() -> delegate.onClosed(webSocket, code, reason));
        }

        @Override
        public void onFailure(WebSocket webSocket, Throwable t, Response response) {
            offLoop(() -> delegate.onFailure(webSocket, t, response));
        }

        private static void offLoop(Runnable r) {
            Thread t = new Thread(r, "mock-watch-close");
            t.setDaemon(true);
            t.start();
        }
    }
}
