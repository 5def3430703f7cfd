package io.qvirt.launcher.runtime;

import io.qvirt.launcher.plan.RuntimePaths;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileLock;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

/**
 * The one client of a VM's serial console. QEMU serves {@code console.sock} to one connection at a
 * time and leaves a second one waiting silently, so qvirt's clients first take {@code console.lock}
 * (an fcntl lock holding the owner's pid): a second client is refused at once with who holds it.
 */
public final class ConsoleClient implements AutoCloseable {
    /** Ctrl-]: detaches, as with virtctl console. */
    public static final int DETACH = 0x1d;

    private final RandomAccessFile lockFile;
    private final FileLock lock;
    private final SocketChannel ch;

    private ConsoleClient(RandomAccessFile lockFile, FileLock lock, SocketChannel ch) {
        this.lockFile = lockFile;
        this.lock = lock;
        this.ch = ch;
    }

    /**
     * Takes the console.
     *
     * @throws LauncherException if the VM has no console or another client holds it (naming its pid)
     */
    public static ConsoleClient attach(RuntimePaths p, String who) {
        if (!Files.exists(p.consoleSocket())) {
            throw new LauncherException("VM has no serial console at " + p.consoleSocket());
        }
        RandomAccessFile raf = null;
        try {
            raf = new RandomAccessFile(p.consoleLock().toFile(), "rw");
            FileLock l = raf.getChannel().tryLock();
            if (l == null) {
                raf.seek(0);
                String holder = raf.readLine();
                raf.close();
                throw new LauncherException("the console is in use by " + (holder == null ? "another client" : holder.strip())
                        + "; one client at a time: detach it first (Ctrl-])");
            }
            raf.setLength(0);
            raf.write((who + " (pid " + ProcessHandle.current().pid() + ")\n").getBytes(StandardCharsets.UTF_8));
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            ch.connect(UnixDomainSocketAddress.of(p.consoleSocket()));
            return new ConsoleClient(raf, l, ch);
        } catch (IOException e) {
            try {
                if (raf != null) {
                    raf.close();
                }
            } catch (IOException ignored) {
                // Already failing; the first error is the one to report.
            }
            throw new LauncherException("cannot attach to the console at " + p.consoleSocket() + ": " + e.getMessage(), e);
        }
    }

    /** Copies the guest's output to {@code out} on a daemon thread until the console closes. */
    public Thread pumpOutput(OutputStream out) {
        Thread t = new Thread(() -> {
            ByteBuffer buf = ByteBuffer.allocate(8192);
            try {
                while (ch.read(buf) > 0) {
                    out.write(buf.array(), 0, buf.position());
                    out.flush();
                    buf.clear();
                }
            } catch (IOException e) {
                // The console closed (QEMU exited or we detached).
            }
        }, "console-out");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /**
     * Copies {@code in} to the guest until end of input or Ctrl-] (which is not sent).
     *
     * @return true if the user detached with Ctrl-], false on end of input or a closed console
     */
    public boolean pumpInput(InputStream in) {
        byte[] buf = new byte[1024];
        try {
            int n;
            while ((n = in.read(buf)) > 0) {
                for (int i = 0; i < n; i++) {
                    if ((buf[i] & 0xff) == DETACH) {
                        write(buf, i);
                        return true;
                    }
                }
                write(buf, n);
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    /** Sends text to the guest's console. */
    public void send(String text) throws IOException {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        write(b, b.length);
    }

    private void write(byte[] b, int n) throws IOException {
        ByteBuffer bb = ByteBuffer.wrap(b, 0, n);
        while (bb.hasRemaining()) {
            ch.write(bb);
        }
    }

    @Override
    public void close() {
        try {
            ch.close();
        } catch (IOException ignored) {
            // Closing a dead socket.
        }
        try {
            lock.release();
            lockFile.close();
        } catch (IOException ignored) {
            // The lock goes with the fd anyway.
        }
    }
}
