package io.qvirt.virtctl;

import io.fabric8.kubernetes.client.http.WebSocket;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code virtctl port-forward TYPE/NAME[/NAMESPACE] [PROTOCOL/]LOCAL[:REMOTE]...}: KubeVirt's port-forward through the
 * API server ({@code GET .../virtualmachines|virtualmachineinstances/NAME/portforward/REMOTE/tcp}, a WebSocket, subprotocol
 * {@code plain.kubevirt.io}). It listens on {@code --address} and opens one WebSocket per accepted connection, bytes
 * untouched both ways; either side's close closes the other. {@code --stdio} relays one connection over stdin and
 * stdout instead (ssh's ProxyCommand).
 *
 * <p>Backpressure: the WebSocket's next message is asked for only once the last one is written to the local
 * connection, and the local connection is read only while the WebSocket's send queue is under {@value #SEND_QUEUE_MAX}
 * bytes. Waits are bounded: the upgrade by the connect timeout, a send queue that does not drain by
 * {@value #SEND_STALL_SECONDS} s (the connection is then closed).
 */
@Command(name = "port-forward", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Forward local ports to a virtualmachine or virtualmachineinstance.", "",
            "The target argument supports the syntax TYPE/NAME[/NAMESPACE] with /NAMESPACE",
            "as optional field. TYPE accepts any of vmi, vmis, vm, vms,",
            "virtualmachineinstance(s), virtualmachine(s).", "",
            "The port argument supports the syntax PROTOCOL/LOCAL:REMOTE with PROTOCOL/",
            "and :REMOTE as optional fields (LOCAL:REMOTE/PROTOCOL is read too).",
            "Protocol: tcp (default); udp is refused (qvirt forwards tcp only). On qvirt",
            "only the ports the VMI's pod network interface lists",
            "(spec.domain.devices.interfaces[].ports) reach the guest; another port is",
            "refused naming those that do.", "",
            "Port-forwards get established over the Kubernetes control-plane using",
            "websocket streams. Usage can be restricted by the cluster administrator",
            "through the /portforward subresource. Runs until interrupted (Ctrl-C);",
            "with --stdio until either end closes."},
        footer = {"", "Examples:", "  # Forward the local port 8080 to the vmi port:", "  virtctl port-forward vmi/testvmi 8080", "",
            "  # Forward the local port 8080 to the vmi port 9090:", "  virtctl port-forward vmi/testvmi 8080:9090", "",
            "  # Forward the local port 8080 to the vm port in mynamespace:", "  virtctl port-forward vm/testvm/mynamespace 8080", "",
            "  # Use as ssh's ProxyCommand (what virtctl ssh does):",
            "  ssh -o 'ProxyCommand=virtctl port-forward --stdio=true vm/testvm/default 22' \\",
            "      user@vm.testvm.default", "",
            "  # Note: port-forward sends all traffic over the Kubernetes API Server.",
            "  # For continuous traffic intensive connections, consider using a dedicated",
            "  # Kubernetes Service."})
final class PortForwardCommand extends BaseCommand {
    /** Bytes queued on a WebSocket before the local side is read no further. */
    static final long SEND_QUEUE_MAX = 1 << 20;
    static final long SEND_STALL_SECONDS = 60;
    private static final int READ_BUFFER = 32 * 1024;

    @Parameters(index = "0", paramLabel = "TYPE/NAME[/NAMESPACE]", description = "vm/NAME or vmi/NAME, optionally /NAMESPACE")
    String target;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "[PROTOCOL/]LOCAL[:REMOTE]",
            description = "a local port and the guest port it forwards to (the same when only one is given)")
    List<String> ports = new ArrayList<>();

    @Option(names = "--address", defaultValue = "127.0.0.1", paramLabel = "ADDRESS",
            description = "The address the local ports are opened on (default ${DEFAULT-VALUE}).")
    String address;

    @Option(names = "--stdio", arity = "0..1", paramLabel = "true|false",
            description = "Forward the tunnel to stdout/stdin; only works with a single port.")
    boolean stdio;

    @Override
    int doCall() throws Exception {
        PortForwardTarget t = PortForwardTarget.parse(target);
        List<PortForwardTarget.Port> parsed = new ArrayList<>();
        for (String p : ports) {
            parsed.add(PortForwardTarget.parsePort(p));
        }
        if (stdio && parsed.size() != 1) {
            throw new VirtctlException.Usage("only one port supported when forwarding to stdout");
        }
        InetAddress bind = null;
        if (!stdio) {
            try {
                bind = InetAddress.getByName(address);
            } catch (UnknownHostException e) {
                throw new VirtctlException.Usage("--address \"" + address + "\": not an IP address or a host name that resolves");
            }
        }
        try (Cluster c = cluster()) {
            String ns = t.namespace() != null ? t.namespace() : c.namespace();
            if (stdio) {
                return relayStdio(c, t, ns, parsed.get(0));
            }
            List<ServerSocket> listeners = new ArrayList<>();
            try {
                for (PortForwardTarget.Port p : parsed) {
                    ServerSocket s = new ServerSocket();
                    listeners.add(s);
                    try {
                        s.bind(new InetSocketAddress(bind, p.local()));
                    } catch (IOException e) {
                        throw new VirtctlException.Failure("unable to listen on " + bind.getHostAddress() + ":" + p.local()
                                + ": " + Cluster.oneLine(e), e);
                    }
                }
                List<Thread> acceptors = new ArrayList<>();
                for (int i = 0; i < parsed.size(); i++) {
                    PortForwardTarget.Port p = parsed.get(i);
                    ServerSocket s = listeners.get(i);
                    // KubeVirt's words (its log line), with the port really bound when 0 was asked for.
                    err().println("forwarding tcp " + bind.getHostAddress() + ":" + s.getLocalPort() + " to " + p.remote());
                    Thread a = new Thread(() -> accept(c, t, ns, p, s), "virtctl-port-forward-" + s.getLocalPort());
                    a.setDaemon(true);
                    a.start();
                    acceptors.add(a);
                }
                err().flush();
                // Runs until interrupted (Ctrl-C ends the JVM; an embedding caller interrupts this thread), or until
                // every listener has failed.
                try {
                    while (!acceptors.isEmpty()) {
                        acceptors.get(0).join(1000);
                        acceptors.removeIf(a -> !a.isAlive());
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return ExitCodes.OK;
                }
                throw new VirtctlException.Failure("every local listener closed");
            } finally {
                for (ServerSocket s : listeners) {
                    s.close();
                }
            }
        }
    }

    /** virt-api's path for the guest's {@code port}. */
    static String path(PortForwardTarget t, String ns, PortForwardTarget.Port port) {
        return Cluster.SUBRESOURCES + "/namespaces/" + ns + "/" + (t.vm() ? Resources.VMS : Resources.VMIS) + "/" + t.name()
                + "/portforward/" + port.remote() + "/" + port.protocol();
    }

    private void accept(Cluster c, PortForwardTarget t, String ns, PortForwardTarget.Port port, ServerSocket listener) {
        while (!listener.isClosed()) {
            Socket local;
            try {
                local = listener.accept();
            } catch (IOException e) {
                if (!listener.isClosed()) {
                    report("error accepting connection on " + listener.getLocalSocketAddress() + ": " + Cluster.oneLine(e));
                }
                return;
            }
            Thread h = new Thread(() -> {
                try (Socket s = local) {
                    s.setTcpNoDelay(true);
                    relay(c, t, ns, port, s.getInputStream(), s.getOutputStream(), s::close);
                } catch (VirtctlException.Failure e) {
                    report("error handling connection for " + listener.getLocalPort() + ": " + e.getMessage());
                } catch (VirtctlException e) {
                    // One connection refused (the VM stopped, the port not forwarded): say why, keep listening.
                    report("can't access " + t.kind() + "/" + t.name() + "/" + ns + ": " + e.getMessage());
                } catch (IOException e) {
                    report("error handling connection for " + listener.getLocalPort() + ": " + Cluster.oneLine(e));
                }
            }, "virtctl-port-forward-conn");
            h.setDaemon(true);
            h.start();
        }
    }

    private synchronized void report(String line) {
        err().println(line);
        err().flush();
    }

    private int relayStdio(Cluster c, PortForwardTarget t, String ns, PortForwardTarget.Port port) throws VirtctlException {
        OutputStream out = io().rawOut();
        relay(c, t, ns, port, io().in(), out, () -> { });
        return ExitCodes.OK;
    }

    /**
     * One connection: opens the WebSocket, then local -> WebSocket on this thread and WebSocket -> local in the
     * listener, until either ends. Returns when both are done; a refused upgrade is the exception.
     *
     * @param closeLocal ends the local side (closing a socket); a no-op for stdio
     */
    private void relay(Cluster c, PortForwardTarget t, String ns, PortForwardTarget.Port port, InputStream in,
                       OutputStream out, Closer closeLocal) throws VirtctlException {
        CompletableFuture<String> ended = new CompletableFuture<>();
        WebSocket.Listener listener = new WebSocket.Listener() {
            @Override
            public void onMessage(WebSocket ws, ByteBuffer bytes) {
                write(ws, bytes);
            }

            @Override
            public void onMessage(WebSocket ws, String text) {
                write(ws, ByteBuffer.wrap(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            }

            private void write(WebSocket ws, ByteBuffer bytes) {
                try {
                    byte[] b = new byte[bytes.remaining()];
                    bytes.get(b);
                    // Written before the next message is asked for: a slow local reader slows the guest down.
                    out.write(b);
                    out.flush();
                    ws.request();
                } catch (IOException e) {
                    ended.complete("the local connection failed: " + Cluster.oneLine(e));
                    ws.sendClose(1000, "");
                }
            }

            @Override
            public void onClose(WebSocket ws, int code, String reason) {
                ended.complete(code == 1000 || code == 1001 ? null
                        : "closed with code " + code + (reason == null || reason.isEmpty() ? "" : ": " + reason));
            }

            @Override
            public void onError(WebSocket ws, Throwable error) {
                ended.complete(Cluster.oneLine(error));
            }
        };
        String path = path(t, ns, port);
        WebSocket ws;
        long connectSeconds = Cluster.CONNECT_TIMEOUT.toSeconds() + 5;
        try {
            ws = c.websocket(path, listener).get(connectSeconds, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            VirtctlException f = c.websocketFailure(e.getCause() == null ? e : e.getCause(), t.vm() ? Resources.VM : Resources.VMI, t.name());
            throw f instanceof VirtctlException.Api api ? api.prefixed("Can't connect to websocket (" + api.code + "): ") : f;
        } catch (TimeoutException e) {
            throw new VirtctlException.Unreachable("Unable to connect to the server " + c.server()
                    + ": the port-forward did not open within " + connectSeconds + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VirtctlException.Failure("interrupted", e);
        }
        Thread pump = new Thread(() -> pump(in, ws, ended), "virtctl-port-forward-in");
        pump.setDaemon(true);
        pump.start();
        String why;
        try {
            why = ended.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            why = "interrupted";
        } catch (ExecutionException e) {
            why = Cluster.oneLine(e.getCause());
        }
        ws.sendClose(1000, "");
        try {
            closeLocal.close();
        } catch (IOException e) {
            // already gone
        }
        if (why != null) {
            throw new VirtctlException.Failure("port-forward to " + t.kind() + "/" + t.name() + "/" + ns + ":" + port.remote()
                    + " ended: " + why);
        }
    }

    /** Local bytes to the WebSocket until the local end closes; waits (bounded) while the send queue is full. */
    private static void pump(InputStream in, WebSocket ws, CompletableFuture<String> ended) {
        byte[] buf = new byte[READ_BUFFER];
        try {
            while (!ended.isDone()) {
                int n = in.read(buf);
                if (n < 0) {
                    break;
                }
                if (n == 0) {
                    continue;
                }
                long stallEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(SEND_STALL_SECONDS);
                while (ws.queueSize() > SEND_QUEUE_MAX && !ended.isDone()) {
                    if (System.nanoTime() > stallEnd) {
                        ended.complete("the server took nothing for " + SEND_STALL_SECONDS + " s");
                        return;
                    }
                    Thread.sleep(2);
                }
                // A copy: the buffer is read into again while the WebSocket may still hold this one.
                if (!ws.send(ByteBuffer.wrap(Arrays.copyOf(buf, n)))) {
                    ended.complete("the WebSocket closed while sending");
                    return;
                }
            }
            // The local end closed (ssh exited, the client hung up): a normal end.
            ended.complete(null);
        } catch (IOException e) {
            ended.complete(ended.isDone() ? null : "reading the local connection failed: " + Cluster.oneLine(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ended.complete("interrupted");
        }
    }

    /** Closes the local side. */
    @FunctionalInterface
    interface Closer {
        void close() throws IOException;
    }
}
