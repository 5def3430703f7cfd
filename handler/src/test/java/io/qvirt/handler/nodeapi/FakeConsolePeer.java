package io.qvirt.handler.nodeapi;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A FAKE QEMU serial console: a real Unix socket server at a VM directory's {@code console.sock} that
 * records the bytes each connection sends and can send bytes back. Unlike QEMU it accepts any number of
 * connections, so a test sees whether the node API lets a second client through.
 */
final class FakeConsolePeer implements AutoCloseable {
    private final ServerSocketChannel server;
    private final Thread acceptor;
    private final BlockingQueue<Connection> accepted = new LinkedBlockingQueue<>();
    private final List<Connection> all = new CopyOnWriteArrayList<>();

    FakeConsolePeer(Path socket) throws IOException {
        Files.deleteIfExists(socket);
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        acceptor = new Thread(() -> {
            try {
                while (true) {
                    Connection c = new Connection(server.accept());
                    all.add(c);
                    accepted.add(c);
                }
            } catch (IOException e) {
                // Closed.
            }
        }, "fake-console-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** The next connection accepted, waiting up to {@code timeout}; null if none came. */
    Connection awaitConnection(Duration timeout) throws InterruptedException {
        return accepted.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Connections accepted so far. */
    int connections() {
        return all.size();
    }

    @Override
    public void close() throws IOException {
        server.close();
        try {
            acceptor.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Connection c : all) {
            c.close();
        }
    }

    /** One client connection: what it sent, whether it hung up. */
    static final class Connection {
        private final SocketChannel ch;
        private final ByteArrayOutputStream received = new ByteArrayOutputStream();
        private final CountDownLatch eof = new CountDownLatch(1);
        private final Thread reader;

        Connection(SocketChannel ch) {
            this.ch = ch;
            reader = new Thread(() -> {
                ByteBuffer buf = ByteBuffer.allocate(4096);
                try {
                    while (ch.read(buf) >= 0) {
                        synchronized (received) {
                            received.write(buf.array(), 0, buf.position());
                            received.notifyAll();
                        }
                        buf.clear();
                    }
                } catch (IOException e) {
                    // Reset or closed by us: the same as end of stream here.
                }
                eof.countDown();
                synchronized (received) {
                    received.notifyAll();
                }
            }, "fake-console-read");
            reader.setDaemon(true);
            reader.start();
        }

        /** Waits until at least {@code n} bytes arrived (or the timeout), and returns all received. */
        byte[] awaitBytes(int n, Duration timeout) throws InterruptedException {
            long end = System.nanoTime() + timeout.toNanos();
            synchronized (received) {
                while (received.size() < n && eof.getCount() > 0) {
                    long left = TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime());
                    if (left <= 0) {
                        break;
                    }
                    received.wait(left);
                }
                return received.toByteArray();
            }
        }

        /** Sends bytes to the client, as the guest's output. */
        void send(byte[] b) throws IOException {
            ByteBuffer bb = ByteBuffer.wrap(Arrays.copyOf(b, b.length));
            while (bb.hasRemaining()) {
                ch.write(bb);
            }
        }

        /** Whether the client hung up within {@code timeout}. */
        boolean awaitHangUp(Duration timeout) throws InterruptedException {
            return eof.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }

        void close() throws IOException {
            ch.close();
        }
    }
}
