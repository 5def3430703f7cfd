package io.qvirt.kvmprobe;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.IgnoreError;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.size_t;

/**
 * Every native call of kvm-probe, fenced here: open, close, ioctl, mmap, munmap, pthread_self and
 * pthread_kill from libc through jnr-ffi. Every return value is checked; a failure becomes a
 * {@link NativeException} naming the call and its errno. Nothing outside this class touches jnr-ffi's
 * function binding.
 */
final class Native {
    static final int O_RDONLY = 0;
    static final int O_RDWR = 2;
    static final int O_CLOEXEC = 0x80000;
    static final int PROT_READ = 1;
    static final int PROT_WRITE = 2;
    static final int MAP_SHARED = 1;
    static final int MAP_PRIVATE = 2;
    static final int MAP_ANONYMOUS = 0x20;
    static final int MAP_NORESERVE = 0x4000;
    /** The JVM installs a handler for SIGPIPE that ignores it: a safe signal to interrupt a syscall. */
    static final int SIGPIPE = 13;

    /**
     * libc as jnr-ffi binds it. ioctl's argument travels as a raw address ({@code long}); mmap uses
     * {@link Pointer} (an all-{@code long} mmap signature hits jnr-ffi's fast path and gets EINVAL).
     */
    public interface LibC {
        @SaveError
        int open(String path, int flags);

        @SaveError
        int close(int fd);

        @SaveError
        int ioctl(int fd, long request, long arg);

        @SaveError
        Pointer mmap(Pointer addr, @size_t long length, int prot, int flags, int fd, long offset);

        @SaveError
        int munmap(Pointer addr, @size_t long length);

        @IgnoreError
        long pthread_self();

        @IgnoreError
        int pthread_kill(long thread, int sig);
    }

    private static volatile Native instance;

    private final LibC libc;
    private final Runtime runtime;

    private Native(LibC libc) {
        this.libc = libc;
        this.runtime = Runtime.getRuntime(libc);
    }

    /**
     * The process-wide instance; loading libc's bindings happens once.
     *
     * @throws NativeException (call {@code dlopen(libc)}, errno 0) if jnr-ffi cannot bind libc
     */
    static Native get() throws NativeException {
        Native n = instance;
        if (n == null) {
            synchronized (Native.class) {
                n = instance;
                if (n == null) {
                    try {
                        n = new Native(LibraryLoader.create(LibC.class).failImmediately().load("c"));
                    } catch (LinkageError | RuntimeException e) {
                        throw new NativeException("dlopen(libc) [" + e.getMessage() + "]", 0);
                    }
                    instance = n;
                }
            }
        }
        return n;
    }

    private int errno() {
        return runtime.getLastError();
    }

    /** open(2); returns the fd. */
    int open(String path, int flags) throws NativeException {
        int fd = libc.open(path, flags);
        if (fd < 0) {
            throw new NativeException("open(" + path + ")", errno());
        }
        return fd;
    }

    /** close(2). */
    void close(int fd) throws NativeException {
        if (libc.close(fd) != 0) {
            throw new NativeException("close(" + fd + ")", errno());
        }
    }

    /** close(2), ignoring failure: for cleanup paths that already have a result or an exception. */
    void closeQuietly(int fd) {
        if (fd >= 0) {
            libc.close(fd);
        }
    }

    /** ioctl(2) with an integer or address argument; {@code name} names the request in errors. */
    int ioctl(int fd, long request, long arg, String name) throws NativeException {
        int r = libc.ioctl(fd, request, arg);
        if (r < 0) {
            throw new NativeException("ioctl(" + name + ")", errno());
        }
        return r;
    }

    /** ioctl(2) with a pointer to native memory. */
    int ioctl(int fd, long request, Pointer arg, String name) throws NativeException {
        return ioctl(fd, request, arg.address(), name);
    }

    /** mmap(2); returns the mapping as a pointer of {@code length} bytes. */
    Pointer mmap(long length, int prot, int flags, int fd, long offset, String what) throws NativeException {
        Pointer p = libc.mmap(null, length, prot, flags, fd, offset);
        if (p == null || p.address() == -1L || p.address() == 0) {
            throw new NativeException("mmap(" + what + ")", errno());
        }
        return Pointer.wrap(runtime, p.address(), length);
    }

    /** munmap(2); a null pointer is a no-op. */
    void munmap(Pointer p) throws NativeException {
        if (p != null && libc.munmap(p, p.size()) != 0) {
            throw new NativeException("munmap", errno());
        }
    }

    /** munmap(2), ignoring failure (cleanup paths). */
    void munmapQuietly(Pointer p) {
        if (p != null) {
            libc.munmap(p, p.size());
        }
    }

    /** Zeroed native memory owned by the Java heap (freed when unreachable). */
    Pointer allocate(int size) {
        Pointer p = Memory.allocateDirect(runtime, size, true);
        p.setMemory(0, size, (byte) 0);
        return p;
    }

    /** The calling thread's pthread_t. */
    long pthreadSelf() {
        return libc.pthread_self();
    }

    /** pthread_kill(3): returns its error number (0 = sent). */
    int pthreadKill(long thread, int sig) {
        return libc.pthread_kill(thread, sig);
    }
}
