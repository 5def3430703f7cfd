package io.qvirt.api.client;

import java.io.IOException;
import java.net.InetAddress;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** What qvirt's long-running servers (controller, handler, operator) share about their process's life. */
public final class ServerLifecycle {
    private ServerLifecycle() {
    }

    /**
     * On SIGTERM: counts {@code done} down, so the main thread leaves its wait and closes everything (releasing a
     * Lease at once, removing sockets), then holds the JVM until {@code stopped} is counted down, at most 10 s, so
     * a stuck API call cannot hold it longer.
     */
    public static void onShutdown(CountDownLatch done, CountDownLatch stopped) {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            done.countDown();
            try {
                stopped.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "qvirt-shutdown"));
    }

    /**
     * A leader-election identity unique to this process: the pod's name ({@code $HOSTNAME}, else the host's),
     * {@code fallback} if neither is known, then a random UUID, as client-go's.
     */
    public static String leaderIdentity(String fallback) {
        String h = System.getenv("HOSTNAME");
        if (h == null || h.isEmpty()) {
            try {
                h = InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                h = fallback;
            }
        }
        return h + "_" + UUID.randomUUID();
    }
}
