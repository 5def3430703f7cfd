package io.qvirt.handler;

import io.qvirt.handler.nodeapi.NodeApiServer;
import io.qvirt.handler.nodeapi.TlsFiles;
import io.qvirt.handler.nodeapi.VmiOperations;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Starts the node API once its certificates are there and its address is free. On a cluster they come from a
 * Secret that virt-api (or the operator) makes, possibly after the handler's pod started, and a previous handler
 * may still hold the port for a moment: meanwhile the handler drives VMIs without its node API and tries again
 * every few seconds, rather than crash-looping the whole agent (which would also stop VMI status).
 */
final class NodeApiStarter implements AutoCloseable {
    private static final long RETRY_SECONDS = 10;

    private final InetSocketAddress address;
    private final TlsFiles tls;
    private final VmiOperations operations;
    private final PrintWriter err;
    private final ScheduledExecutorService retry = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "qvirt-node-api-start");
        t.setDaemon(true);
        return t;
    });
    private NodeApiServer server;
    private boolean closed;
    private boolean told;

    NodeApiStarter(InetSocketAddress address, TlsFiles tls, VmiOperations operations, PrintWriter err) {
        this.address = address;
        this.tls = tls;
        this.operations = operations;
        this.err = err;
    }

    /**
     * Starts now if the TLS files are readable and the address can be bound, else keeps trying in the background
     * (saying why once per failure): the node API failing must not stop the handler from driving its VMIs.
     */
    synchronized void start() {
        boolean up;
        try {
            up = tryStart();
        } catch (IOException | RuntimeException e) {
            err.println("virt-handler: node API: " + e.getMessage() + "; trying again in " + RETRY_SECONDS + " s");
            up = false;
        }
        if (!up) {
            retry.scheduleWithFixedDelay(() -> {
                try {
                    if (tryStart()) {
                        retry.shutdown();
                    }
                } catch (IOException | RuntimeException e) {
                    err.println("virt-handler: node API: " + e.getMessage() + "; trying again in " + RETRY_SECONDS + " s");
                }
            }, RETRY_SECONDS, RETRY_SECONDS, TimeUnit.SECONDS);
        }
    }

    private synchronized boolean tryStart() throws IOException {
        if (closed || server != null) {
            return true;
        }
        for (var f : new java.nio.file.Path[] {tls.certChain(), tls.key(), tls.clientCa()}) {
            if (!Files.isReadable(f)) {
                if (!told) {
                    err.println("virt-handler: node API waits for its certificates (" + f + " is not there yet)");
                    told = true;
                }
                return false;
            }
        }
        NodeApiServer s = new NodeApiServer(address, tls, operations);
        s.start();
        server = s;
        if (told) {
            err.println("virt-handler: node API serving on " + address);
        }
        return true;
    }

    @Override
    public synchronized void close() {
        closed = true;
        retry.shutdownNow();
        if (server != null) {
            server.close();
        }
    }
}
