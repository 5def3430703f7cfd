package io.qvirt.launcher.process;

import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.SaveError;

/**
 * Every libc call of the launcher's process layer, and only here. Each call's return is checked and a
 * failure becomes a {@link NativeException} naming the call and errno; no jnr type leaves this class.
 */
final class Native {
    static final int AF_UNIX = 1;
    static final int SOCK_STREAM = 1;
    static final int SOCK_CLOEXEC = 0x80000;
    static final int F_GETFD = 1;
    static final int F_SETFD = 2;
    static final int FD_CLOEXEC = 1;
    static final int O_RDONLY = 0;
    static final int O_WRONLY = 1;
    static final int O_RDWR = 2;
    static final int O_CREAT = 0x40;
    static final int O_APPEND = 0x400;
    static final int O_CLOEXEC = 0x80000;
    static final int POSIX_SPAWN_SETPGROUP = 0x02;
    static final int POSIX_SPAWN_SETSIGDEF = 0x04;
    static final int POSIX_SPAWN_SETSIGMASK = 0x08;
    static final int CLOSE_RANGE_CLOEXEC = 1 << 2;
    static final int WNOHANG = 1;
    static final int EINTR = 4;
    static final int ECHILD = 10;
    static final int ESRCH = 3;

    /** glibc's sizes on x86_64 are 80 and 336 bytes; more is harmless. */
    private static final int FILE_ACTIONS_SIZE = 256;
    private static final int SPAWNATTR_SIZE = 512;
    private static final int SIGSET_SIZE = 128;

    public interface LibC {
        @SaveError int posix_spawn(Pointer pid, String path, Pointer fileActions, Pointer attr, Pointer argv, Pointer envp);
        @SaveError int posix_spawn_file_actions_init(Pointer fa);
        @SaveError int posix_spawn_file_actions_destroy(Pointer fa);
        @SaveError int posix_spawn_file_actions_adddup2(Pointer fa, int fd, int newfd);
        @SaveError int posix_spawn_file_actions_addopen(Pointer fa, int fd, String path, int oflag, int mode);
        @SaveError int posix_spawn_file_actions_addclosefrom_np(Pointer fa, int from);
        @SaveError int posix_spawnattr_init(Pointer attr);
        @SaveError int posix_spawnattr_destroy(Pointer attr);
        @SaveError int posix_spawnattr_setflags(Pointer attr, short flags);
        @SaveError int posix_spawnattr_setpgroup(Pointer attr, int pgroup);
        @SaveError int posix_spawnattr_setsigmask(Pointer attr, Pointer sigset);
        @SaveError int posix_spawnattr_setsigdefault(Pointer attr, Pointer sigset);
        @SaveError int sigemptyset(Pointer set);
        @SaveError int sigfillset(Pointer set);
        @SaveError int waitpid(int pid, int[] status, int options);
        @SaveError int kill(int pid, int sig);
        @SaveError int execv(String path, Pointer argv);
        @SaveError int close_range(int first, int last, int flags);
        @SaveError int sigprocmask(int how, Pointer set, Pointer old);
        @SaveError int socket(int domain, int type, int protocol);
        @SaveError int socketpair(int domain, int type, int protocol, int[] sv);
        @SaveError int bind(int fd, byte[] addr, int len);
        @SaveError int listen(int fd, int backlog);
        @SaveError int connect(int fd, byte[] addr, int len);
        @SaveError int fcntl(int fd, int cmd, int arg);
        @SaveError int dup(int fd);
        @SaveError int dup2(int fd, int newfd);
        @SaveError int close(int fd);
        @SaveError int open(String path, int flags, int mode);
        @SaveError long read(int fd, byte[] buf, long count);
        @SaveError long write(int fd, byte[] buf, long count);
        int getpid();
    }

    private static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");
    private static final Runtime RUNTIME = Runtime.getRuntime(LIBC);

    private Native() {
    }

    private static int errno() {
        return RUNTIME.getLastError();
    }

    private static int check(String call, int rc) {
        if (rc < 0) {
            throw new NativeException(call, errno());
        }
        return rc;
    }

    /** posix_spawn's family returns the error number instead of setting errno. */
    private static void checkSpawn(String call, int rc) {
        if (rc != 0) {
            throw new NativeException(call, rc);
        }
    }

    /**
     * A NULL-terminated char** for argv/envp. The strings' native memory is freed when their Pointer
     * objects are collected, so the holder keeps them; callers fence it until the call returns.
     */
    private record CStringArray(Pointer array, List<Pointer> strings) {
        static CStringArray of(List<String> values) {
            Pointer array = Memory.allocateDirect(RUNTIME, (values.size() + 1) * 8L, true);
            List<Pointer> keep = new ArrayList<>(values.size());
            for (int i = 0; i < values.size(); i++) {
                byte[] b = values.get(i).getBytes(StandardCharsets.UTF_8);
                Pointer s = Memory.allocateDirect(RUNTIME, b.length + 1, true);
                s.put(0, b, 0, b.length);
                s.putByte(b.length, (byte) 0);
                array.putPointer(i * 8L, s);
                keep.add(s);
            }
            array.putAddress(values.size() * 8L, 0L);
            return new CStringArray(array, keep);
        }
    }

    /**
     * posix_spawn: the child gets fd {@code 3+i} = {@code inherit[i]}, stdin/stdout/stderr from the given
     * paths (or this process's when null), and nothing else (closefrom); an empty signal mask and default
     * signal actions; its own process group if asked.
     *
     * @return the child's pid
     */
    static int spawn(String path, List<String> argv, List<String> env, int[] inherit,
                     String stdinPath, String stdoutPath, String stderrPath, boolean newProcessGroup) {
        Pointer fa = Memory.allocateDirect(RUNTIME, FILE_ACTIONS_SIZE, true);
        Pointer attr = Memory.allocateDirect(RUNTIME, SPAWNATTR_SIZE, true);
        checkSpawn("posix_spawn_file_actions_init", LIBC.posix_spawn_file_actions_init(fa));
        checkSpawn("posix_spawnattr_init", LIBC.posix_spawnattr_init(attr));
        try {
            if (stdinPath != null) {
                checkSpawn("posix_spawn_file_actions_addopen(0)", LIBC.posix_spawn_file_actions_addopen(fa, 0, stdinPath, O_RDONLY, 0));
            }
            if (stdoutPath != null) {
                checkSpawn("posix_spawn_file_actions_addopen(1)",
                        LIBC.posix_spawn_file_actions_addopen(fa, 1, stdoutPath, O_WRONLY | O_CREAT | O_APPEND, 0600));
            }
            if (stderrPath != null) {
                checkSpawn("posix_spawn_file_actions_addopen(2)",
                        LIBC.posix_spawn_file_actions_addopen(fa, 2, stderrPath, O_WRONLY | O_CREAT | O_APPEND, 0600));
            }
            // Two steps, so a source fd that equals another's target is never overwritten first.
            int high = 1000;
            for (int i = 0; i < inherit.length; i++) {
                checkSpawn("posix_spawn_file_actions_adddup2", LIBC.posix_spawn_file_actions_adddup2(fa, inherit[i], high + i));
            }
            for (int i = 0; i < inherit.length; i++) {
                checkSpawn("posix_spawn_file_actions_adddup2", LIBC.posix_spawn_file_actions_adddup2(fa, high + i, 3 + i));
            }
            checkSpawn("posix_spawn_file_actions_addclosefrom_np", LIBC.posix_spawn_file_actions_addclosefrom_np(fa, 3 + inherit.length));

            Pointer empty = Memory.allocateDirect(RUNTIME, SIGSET_SIZE, true);
            Pointer all = Memory.allocateDirect(RUNTIME, SIGSET_SIZE, true);
            check("sigemptyset", LIBC.sigemptyset(empty));
            check("sigfillset", LIBC.sigfillset(all));
            checkSpawn("posix_spawnattr_setsigmask", LIBC.posix_spawnattr_setsigmask(attr, empty));
            checkSpawn("posix_spawnattr_setsigdefault", LIBC.posix_spawnattr_setsigdefault(attr, all));
            int flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
            if (newProcessGroup) {
                flags |= POSIX_SPAWN_SETPGROUP;
                checkSpawn("posix_spawnattr_setpgroup", LIBC.posix_spawnattr_setpgroup(attr, 0));
            }
            checkSpawn("posix_spawnattr_setflags", LIBC.posix_spawnattr_setflags(attr, (short) flags));

            Pointer pid = Memory.allocateDirect(RUNTIME, 4, true);
            CStringArray cargv = CStringArray.of(argv);
            CStringArray cenv = CStringArray.of(env);
            try {
                checkSpawn("posix_spawn(" + path + ")", LIBC.posix_spawn(pid, path, fa, attr, cargv.array(), cenv.array()));
            } finally {
                Reference.reachabilityFence(cargv);
                Reference.reachabilityFence(cenv);
            }
            return pid.getInt(0);
        } finally {
            LIBC.posix_spawn_file_actions_destroy(fa);
            LIBC.posix_spawnattr_destroy(attr);
        }
    }

    /**
     * Replaces this process with {@code path}: {@code inherit[i]} becomes fd {@code firstFd+i}, every
     * other fd from 3 up is marked close-on-exec, the signal mask is cleared, then execv. The JVM's own
     * fds are never overwritten (only marked), so nothing the JVM still uses changes under it; the
     * target range must be free (see {@link #freeFdRange}). Returns only by throwing.
     */
    static void exec(String path, List<String> argv, int[] inherit, int firstFd) {
        // Everything that allocates or links native stubs happens before the first fd is touched.
        CStringArray args = CStringArray.of(argv);
        Pointer empty = Memory.allocateDirect(RUNTIME, SIGSET_SIZE, true);
        check("sigemptyset", LIBC.sigemptyset(empty));
        for (int i = 0; i < inherit.length; i++) {
            if (inherit[i] == firstFd + i) {
                check("fcntl(F_SETFD)", LIBC.fcntl(inherit[i], F_SETFD, 0)); // dup2 would have cleared CLOEXEC
            } else if (LIBC.fcntl(firstFd + i, F_GETFD, 0) >= 0) {
                throw new NativeException("exec: fd " + (firstFd + i) + " is in use by this JVM", 16 /* EBUSY */);
            } else {
                check("dup2", LIBC.dup2(inherit[i], firstFd + i));
            }
        }
        if (firstFd > 3) {
            check("close_range(CLOEXEC)", LIBC.close_range(3, firstFd - 1, CLOSE_RANGE_CLOEXEC));
        }
        check("close_range(CLOEXEC)", LIBC.close_range(firstFd + inherit.length, Integer.MAX_VALUE, CLOSE_RANGE_CLOEXEC));
        check("sigprocmask", LIBC.sigprocmask(2 /* SIG_SETMASK */, empty, null));
        int rc = LIBC.execv(path, args.array());
        Reference.reachabilityFence(args);
        throw new NativeException("execv(" + path + ")", rc < 0 ? errno() : 0);
    }

    /** The first fd {@code >= from} such that it and the next {@code n-1} are all unused. */
    static int freeFdRange(int from, int n) {
        int base = from;
        for (int fd = from; fd < from + 4096; fd++) {
            if (LIBC.fcntl(fd, F_GETFD, 0) >= 0) {
                base = fd + 1;
            } else if (fd - base + 1 >= n) {
                return base;
            }
        }
        throw new NativeException("no free range of " + n + " fds above " + from, 24 /* EMFILE */);
    }

    /** Blocks until {@code pid} exits; returns its raw wait status. Retries on EINTR. */
    static int waitpid(int pid, boolean noHang) {
        int[] status = new int[1];
        while (true) {
            int rc = LIBC.waitpid(pid, status, noHang ? WNOHANG : 0);
            if (rc == pid) {
                return status[0];
            }
            if (rc == 0) {
                return -1;
            }
            int e = errno();
            if (e != EINTR) {
                throw new NativeException("waitpid(" + pid + ")", e);
            }
        }
    }

    /** kill(2); returns false if the process no longer exists. */
    static boolean kill(int pid, int sig) {
        if (LIBC.kill(pid, sig) == 0) {
            return true;
        }
        int e = errno();
        if (e == ESRCH) {
            return false;
        }
        throw new NativeException("kill(" + pid + ", " + sig + ")", e);
    }

    private static byte[] sockaddrUn(String path) {
        byte[] p = path.getBytes(StandardCharsets.UTF_8);
        if (p.length >= 108) {
            throw new NativeException("sockaddr_un(" + path + "): path longer than 107 bytes", 36 /* ENAMETOOLONG */);
        }
        byte[] addr = new byte[2 + 108];
        addr[0] = (byte) AF_UNIX;
        System.arraycopy(p, 0, addr, 2, p.length);
        return addr;
    }

    /** A close-on-exec listening Unix stream socket bound at {@code path}. */
    static int listenUnix(String path, int backlog) {
        int fd = check("socket", LIBC.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        try {
            byte[] addr = sockaddrUn(path);
            check("bind(" + path + ")", LIBC.bind(fd, addr, addr.length));
            check("listen(" + path + ")", LIBC.listen(fd, backlog));
            return fd;
        } catch (NativeException e) {
            LIBC.close(fd);
            throw e;
        }
    }

    /** A connected close-on-exec Unix stream socket to {@code path}. */
    static int connectUnix(String path) {
        int fd = check("socket", LIBC.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        byte[] addr = sockaddrUn(path);
        if (LIBC.connect(fd, addr, addr.length) < 0) {
            int e = errno();
            LIBC.close(fd);
            throw new NativeException("connect(" + path + ")", e);
        }
        return fd;
    }

    /** A pair of connected close-on-exec Unix stream sockets. */
    static int[] socketPair() {
        int[] sv = new int[2];
        check("socketpair", LIBC.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
        return sv;
    }

    /** {@code path} opened read-write and close-on-exec: a FIFO so opened never blocks (Linux). */
    static int openReadWrite(String path) {
        return check("open(" + path + ")", LIBC.open(path, O_RDWR | O_CLOEXEC, 0));
    }

    static void close(int fd) {
        check("close(" + fd + ")", LIBC.close(fd));
    }

    static int dup(int fd) {
        return check("dup(" + fd + ")", LIBC.dup(fd));
    }

    static boolean isCloseOnExec(int fd) {
        return (check("fcntl(F_GETFD)", LIBC.fcntl(fd, F_GETFD, 0)) & FD_CLOEXEC) != 0;
    }

    static int getpid() {
        return LIBC.getpid();
    }
}
