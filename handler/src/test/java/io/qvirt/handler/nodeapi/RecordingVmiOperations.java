package io.qvirt.handler.nodeapi;

import io.qvirt.launcher.plan.RuntimePaths;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * A FAKE {@link VmiOperations}: records every call ("pause ns/name") and answers as the test sets it,
 * with a fixed RuntimePaths for consoles, a fixed address for port-forward, or an exception to throw.
 */
final class RecordingVmiOperations implements VmiOperations {
    final List<String> calls = new CopyOnWriteArrayList<>();
    /** Thrown by every call while set. */
    volatile RuntimeException failure;
    /** How long each call takes, as a QMP round trip would. */
    volatile long delayMillis;
    /** What {@link #consolePaths} returns. */
    volatile Supplier<RuntimePaths> consolePaths = () -> {
        throw new NodeApiException(404, "no console set up in this test");
    };

    @Override
    public void pause(String namespace, String name) {
        record("pause", namespace, name);
    }

    @Override
    public void unpause(String namespace, String name) {
        record("unpause", namespace, name);
    }

    @Override
    public void reset(String namespace, String name) {
        record("reset", namespace, name);
    }

    @Override
    public RuntimePaths consolePaths(String namespace, String name) {
        record("console", namespace, name);
        return consolePaths.get();
    }

    /** What {@link #portForwardTarget} returns. */
    volatile Supplier<java.net.InetSocketAddress> portForwardTarget = () -> {
        throw new NodeApiException(404, "no port-forward target set up in this test");
    };

    @Override
    public java.net.InetSocketAddress portForwardTarget(String namespace, String name, int port, String protocol) {
        record("portforward " + port + "/" + protocol, namespace, name);
        return portForwardTarget.get();
    }

    private void record(String op, String namespace, String name) {
        long d = delayMillis;
        if (d > 0) {
            try {
                Thread.sleep(d);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
        calls.add(op + " " + namespace + "/" + name);
        RuntimeException f = failure;
        if (f != null) {
            throw f;
        }
    }
}
