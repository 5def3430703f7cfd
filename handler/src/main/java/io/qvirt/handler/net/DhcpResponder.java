package io.qvirt.handler.net;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The DHCP server of one bridge interface, inside the launcher pod's network namespace. In KubeVirt, virt-launcher
 * serves it; qvirt's launcher becomes QEMU, so virt-handler does, on a dedicated platform thread that enters the
 * pod's network namespace ({@code setns}, which moves only the calling thread) and opens its sockets there: they
 * stay in that namespace whatever thread uses them later.
 * <ul>
 * <li>receives on 0.0.0.0:67 (SO_REUSEADDR, SO_BROADCAST): the guest's broadcasts over the bridge;</li>
 * <li>replies to 255.255.255.255:68 from a socket bound to the bridge's {@value BridgePlumber#BRIDGE_ADDRESS}:67:
 *     Linux sends a limited broadcast out of the interface that owns the bound source address, the bridge, which
 *     floods it to the tap.</li>
 * </ul>
 * It lives until {@link #close()} or until the pod's process ({@code pid}, QEMU after execv) is gone.
 */
public final class DhcpResponder implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DhcpResponder.class.getName());
    private static final InetSocketAddress BROADCAST = new InetSocketAddress(DhcpLease.parse("255.255.255.255"), 68);

    private final String name;
    private final long pid;
    private final DhcpLease lease;
    private final Thread thread;
    private final CompletableFuture<Void> listening = new CompletableFuture<>();
    private volatile boolean closed;
    private volatile Selector selector;
    private volatile long answered;

    private DhcpResponder(String name, long pid, DhcpLease lease) {
        this.name = name;
        this.pid = pid;
        this.lease = lease;
        this.thread = new Thread(this::serve, "qvirt-dhcp-" + name);
        this.thread.setDaemon(true);
    }

    /**
     * Starts serving {@code lease} in the network namespace of process {@code pid} (as this host sees it) and
     * returns once its sockets are bound there. Precondition: the namespace has the bridge with
     * {@value BridgePlumber#BRIDGE_ADDRESS} ({@link BridgePlumber}).
     *
     * @param name for the thread's name and the log ({@code namespace/name})
     * @throws IOException if the namespace cannot be entered or a socket cannot be bound in it
     */
    public static DhcpResponder start(String name, long pid, DhcpLease lease) throws IOException {
        DhcpResponder r = new DhcpResponder(name, pid, lease);
        r.thread.start();
        try {
            r.listening.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            r.close();
            throw new IOException("DHCP for " + name + " in the network namespace of pid " + pid + ": "
                    + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            r.close();
            throw new IOException("DHCP for " + name + ": its sockets were not bound within 10 s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            r.close();
            throw new IOException("interrupted", e);
        }
        return r;
    }

    /** True while its thread serves. */
    public boolean alive() {
        return thread.isAlive() && !closed;
    }

    /** Replies sent so far. */
    public long answered() {
        return answered;
    }

    public DhcpLease lease() {
        return lease;
    }

    private void serve() {
        DatagramChannel in = null;
        DatagramChannel out = null;
        try {
            try {
                String ns = "/proc/" + pid + "/ns/net";
                int fd = Native.openNamespace(ns);
                try {
                    Native.setNetns(fd, ns);
                } finally {
                    Native.close(fd);
                }
                // From here this thread is in the pod's network namespace: the sockets are made there.
                in = DatagramChannel.open(StandardProtocolFamily.INET);
                in.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                in.setOption(StandardSocketOptions.SO_BROADCAST, true);
                in.bind(new InetSocketAddress(DhcpLease.parse("0.0.0.0"), 67));
                out = DatagramChannel.open(StandardProtocolFamily.INET);
                out.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                out.setOption(StandardSocketOptions.SO_BROADCAST, true);
                out.bind(new InetSocketAddress(DhcpLease.parse(lease.serverId()), 67));
                in.configureBlocking(false);
                out.configureBlocking(false);
                selector = Selector.open();
                in.register(selector, SelectionKey.OP_READ);
                out.register(selector, SelectionKey.OP_READ); // unicast requests to the server address
            } catch (IOException | RuntimeException e) {
                listening.completeExceptionally(e);
                return;
            }
            listening.complete(null);
            LOG.info(name + ": DHCP serves " + lease.ip() + "/" + lease.prefix() + " to " + lease.mac()
                    + " in the network namespace of pid " + pid);
            ByteBuffer buf = ByteBuffer.allocate(1500);
            while (!closed) {
                if (selector.select(1000) == 0) {
                    if (ProcessHandle.of(pid).isEmpty()) {
                        LOG.info(name + ": pid " + pid + " is gone; DHCP stops");
                        return;
                    }
                    continue;
                }
                for (SelectionKey k : selector.selectedKeys()) {
                    buf.clear();
                    if (((DatagramChannel) k.channel()).receive(buf) == null) {
                        continue;
                    }
                    try {
                        handle(buf.array(), buf.position(), out);
                    } catch (IOException | RuntimeException e) {
                        LOG.log(Level.WARNING, name + ": a DHCP reply failed: " + e, e); // the next request may work
                    }
                }
                selector.selectedKeys().clear();
            }
        } catch (IOException | RuntimeException e) {
            if (!closed) {
                LOG.log(Level.WARNING, name + ": DHCP stopped: " + e, e);
            }
        } finally {
            for (AutoCloseable c : new AutoCloseable[] {selector, in, out}) {
                try {
                    if (c != null) {
                        c.close();
                    }
                } catch (Exception e) {
                    LOG.fine("closing: " + e);
                }
            }
        }
    }

    private void handle(byte[] b, int len, DatagramChannel out) throws IOException {
        DhcpMessage req;
        try {
            req = DhcpCodec.decode(b, len);
        } catch (DhcpFormatException e) {
            LOG.fine(name + ": not a DHCP message (" + e.getMessage() + ")");
            return;
        }
        DhcpMessage reply = DhcpReplies.reply(req, lease);
        if (reply == null) {
            return;
        }
        out.send(ByteBuffer.wrap(DhcpCodec.encode(reply)), BROADCAST);
        answered++;
        LOG.info(name + ": DHCP " + type(req.messageType()) + " from " + req.chaddr() + " -> " + type(reply.messageType())
                + (reply.messageType() == DhcpMessage.NAK ? "" : " " + lease.ip()));
    }

    private static String type(int t) {
        return switch (t) {
            case DhcpMessage.DISCOVER -> "DISCOVER";
            case DhcpMessage.OFFER -> "OFFER";
            case DhcpMessage.REQUEST -> "REQUEST";
            case DhcpMessage.ACK -> "ACK";
            case DhcpMessage.NAK -> "NAK";
            default -> "type " + t;
        };
    }

    /** Stops serving and closes the sockets (waits up to 5 s for the thread). */
    @Override
    public void close() {
        closed = true;
        Selector s = selector;
        if (s != null) {
            s.wakeup();
        }
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
