package io.qvirt.handler.nodeapi;

import io.qvirt.launcher.plan.RuntimePaths;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * The node API's side of a VM's {@code console.lock}: the same protocol as the launcher's
 * {@code ConsoleClient} (a {@link FileLock} on the file, which holds one line naming its holder), so a
 * {@code launcher console} and a virt-api WebSocket exclude each other, and a refusal names whoever holds it.
 *
 * <p>Why a registry on top of the file lock: Java's {@code FileLock} is an fcntl (POSIX record) lock,
 * owned by the process, not by the file descriptor. Two node API clients live in one process, so the
 * second one's {@code tryLock} would not see the first (the JDK throws {@link OverlappingFileLockException}
 * instead), and worse, merely closing the second one's descriptor on the same file would silently drop
 * the first one's lock. So this process opens a VM's lock file only while it holds no lease on it:
 * {@link #held} answers for this process, the file lock for everyone else.
 *
 * <p>All methods do blocking file I/O: call them off the event loops.
 */
final class ConsoleLocks {
    private static final Logger LOG = Logger.getLogger(ConsoleLocks.class.getName());

    /** The answer to {@link #acquire}: the console is ours now, or someone else's. */
    sealed interface Attempt permits Acquired, InUse {
    }

    /** The console is ours until the lease is closed. */
    record Acquired(Lease lease) implements Attempt {
    }

    /** Held by {@code holder} (the lock file's line, or "another client" if it has none). */
    record InUse(String holder) implements Attempt {
    }

    private final Map<Path, Lease> held = new HashMap<>();

    /**
     * Takes the console lock of the VM at {@code paths} for {@code who}.
     *
     * @param who what the lock file says holds it (the pid is appended, as the launcher's client does)
     * @throws IOException if the lock file cannot be opened or written
     */
    synchronized Attempt acquire(RuntimePaths paths, String who) throws IOException {
        Path lockPath = key(paths);
        Lease mine = held.get(lockPath);
        if (mine != null) {
            return new InUse(mine.holder);
        }
        boolean created = !Files.exists(lockPath);
        RandomAccessFile raf = new RandomAccessFile(lockPath.toFile(), "rw");
        try {
            if (created) {
                shareWithLauncher(lockPath);
            }
            FileLock lock;
            try {
                lock = raf.getChannel().tryLock();
            } catch (OverlappingFileLockException e) {
                // Another part of this JVM (not this registry) holds it: someone in-process.
                raf.close();
                return new InUse("another client in virt-handler");
            }
            if (lock == null) {
                raf.seek(0);
                String line = raf.readLine();
                raf.close();
                return new InUse(line == null || line.isBlank() ? "another client" : line.strip());
            }
            String holder = who + " (pid " + ProcessHandle.current().pid() + ")";
            raf.setLength(0);
            raf.write((holder + "\n").getBytes(StandardCharsets.UTF_8));
            Lease lease = new Lease(lockPath, raf, lock, holder);
            held.put(lockPath, lease);
            return new Acquired(lease);
        } catch (IOException | RuntimeException e) {
            closeQuietly(raf);
            throw e;
        }
    }

    /** Releases every lease still held (shutdown). */
    void releaseAll() {
        List<Lease> all;
        synchronized (this) {
            all = new ArrayList<>(held.values());
        }
        all.forEach(Lease::close);
    }

    /** Leases held now, for tests and diagnostics. */
    synchronized int heldCount() {
        return held.size();
    }

    private synchronized void release(Lease lease) {
        // Release and close before forgetting it: until then no other acquire in this process may open the file.
        try {
            lease.lock.release();
        } catch (IOException ignored) {
            // The lock goes with the descriptor closed next.
        }
        closeQuietly(lease.file);
        held.remove(lease.path, lease);
    }

    private static Path key(RuntimePaths paths) throws IOException {
        // The real directory, so two spellings of one VM's directory are one lock.
        return paths.dir().toRealPath().resolve(paths.consoleLock().getFileName());
    }

    /**
     * A lock file made by the handler (root) must stay usable by the launcher pod's user, who owns the
     * VM's directory: a {@code launcher console} opens it read-write.
     */
    private static void shareWithLauncher(Path lockPath) {
        try {
            Files.setPosixFilePermissions(lockPath, PosixFilePermissions.fromString("rw-------"));
            Files.setOwner(lockPath, Files.getOwner(lockPath.getParent()));
        } catch (IOException | UnsupportedOperationException e) {
            LOG.warning("cannot give " + lockPath + " to its directory's owner: " + e);
        }
    }

    private static void closeQuietly(RandomAccessFile raf) {
        try {
            raf.close();
        } catch (IOException ignored) {
            // Nothing more to do with a descriptor that will not close.
        }
    }

    /** One held console; closing it releases the lock (once; later calls do nothing). */
    final class Lease implements AutoCloseable {
        private final Path path;
        private final RandomAccessFile file;
        private final FileLock lock;
        private final String holder;
        private boolean closed;

        private Lease(Path path, RandomAccessFile file, FileLock lock, String holder) {
            this.path = path;
            this.file = file;
            this.lock = lock;
            this.holder = holder;
        }

        /** What the lock file names as holder. */
        String holder() {
            return holder;
        }

        @Override
        public void close() {
            synchronized (ConsoleLocks.this) {
                if (closed) {
                    return;
                }
                closed = true;
                release(this);
            }
        }
    }
}
