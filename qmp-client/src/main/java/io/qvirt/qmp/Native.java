package io.qvirt.qmp;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jnr.constants.platform.Errno;
import jnr.constants.platform.Fcntl;
import jnr.posix.CmsgHdr;
import jnr.posix.MsgHdr;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;

/**
 * Every native call of qmp-client, fenced here. Each return value is checked; a failure becomes a
 * {@link QmpException} naming the call and errno. Linux x86_64 only (constants below are Linux's).
 */
final class Native {
    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOL_SOCKET = 1;
    private static final int SCM_RIGHTS = 1;
    private static final int MSG_DONTWAIT = 0x40;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final int O_NONBLOCK = 04000;
    private static final int FD_CLOEXEC = 1;
    static final int EAGAIN = 11;

    private Native() {
    }

    /** Loaded on first use: jnr's native stub costs ~100 ms, and most clients never pass fds. */
    private static final class Holder {
        static final POSIX POSIX = POSIXFactory.getNativePOSIX();
    }

    private static POSIX posix() {
        return Holder.POSIX;
    }

    private static QmpException failure(String call, int errno) {
        String name;
        try {
            Errno e = Errno.valueOf(errno);
            name = e.name() + " (" + e.description() + ")";
        } catch (RuntimeException ex) {
            name = "errno " + errno;
        }
        return new QmpException(call + " failed: " + name);
    }

    /**
     * Sends {@code data} and passes {@code fd} with it (SCM_RIGHTS) in one non-blocking sendmsg, so the
     * descriptor travels with the command's first byte and no stray byte is written.
     *
     * @param socket a connected AF_UNIX stream socket
     * @param data   bytes to send; at least one byte (the kernel needs data to carry the control message)
     * @param fd     an open descriptor of this process; it stays open here (the peer receives a copy)
     * @return bytes sent (possibly fewer than {@code data.length}), or -1 if the socket would block
     * @throws QmpException on any other failure, with errno
     */
    static int sendWithFd(int socket, byte[] data, int fd) {
        if (data.length == 0) {
            throw new IllegalArgumentException("fd passing needs at least one data byte");
        }
        POSIX p = posix();
        // jnr wraps iov buffers as raw pointers, so they must be direct and start at position 0.
        ByteBuffer payload = ByteBuffer.allocateDirect(data.length);
        payload.put(data).flip();
        ByteBuffer fdBytes = ByteBuffer.allocateDirect(4).order(ByteOrder.nativeOrder());
        fdBytes.putInt(0, fd);
        MsgHdr msg = p.allocateMsgHdr();
        msg.setIov(new ByteBuffer[] {payload});
        CmsgHdr control = msg.allocateControl(4);
        control.setLevel(SOL_SOCKET);
        control.setType(SCM_RIGHTS);
        control.setData(fdBytes);
        int n = p.sendmsg(socket, msg, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0) {
            int errno = p.errno();
            if (errno == EAGAIN) {
                return -1;
            }
            throw failure("sendmsg(SCM_RIGHTS fd=" + fd + ")", errno);
        }
        return n;
    }

    /** Sets O_NONBLOCK on {@code fd}, which must be open; Netty's epoll transport requires it. */
    static void setNonBlocking(int fd) {
        POSIX p = posix();
        int flags = p.fcntl(fd, Fcntl.F_GETFL);
        if (flags < 0) {
            throw failure("fcntl(" + fd + ", F_GETFL)", p.errno());
        }
        if ((flags & O_NONBLOCK) == 0 && p.fcntlInt(fd, Fcntl.F_SETFL, flags | O_NONBLOCK) < 0) {
            throw failure("fcntl(" + fd + ", F_SETFL, O_NONBLOCK)", p.errno());
        }
    }

    /** Marks {@code fd} close-on-exec, so processes spawned later do not inherit a client's socket. */
    static void setCloseOnExec(int fd) {
        POSIX p = posix();
        int flags = p.fcntl(fd, Fcntl.F_GETFD);
        if (flags < 0) {
            throw failure("fcntl(" + fd + ", F_GETFD)", p.errno());
        }
        if (p.fcntlInt(fd, Fcntl.F_SETFD, flags | FD_CLOEXEC) < 0) {
            throw failure("fcntl(" + fd + ", F_SETFD, FD_CLOEXEC)", p.errno());
        }
    }

    /**
     * A connected pair of AF_UNIX stream sockets, blocking, without close-on-exec (so a child spawned
     * with posix_spawn inherits them unless told otherwise). The caller owns both.
     */
    static int[] socketPair() {
        POSIX p = posix();
        int[] fds = new int[2];
        if (p.socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0) {
            throw failure("socketpair(AF_UNIX, SOCK_STREAM)", p.errno());
        }
        return fds;
    }

    /** A pipe, {read, write}; the caller owns both. */
    static int[] pipe() {
        POSIX p = posix();
        int[] fds = new int[2];
        if (p.pipe(fds) < 0) {
            throw failure("pipe", p.errno());
        }
        return fds;
    }

    /** Closes {@code fd}; EBADF and other failures are reported. */
    static void close(int fd) {
        POSIX p = posix();
        if (p.close(fd) < 0) {
            throw failure("close(" + fd + ")", p.errno());
        }
    }

    /** Whether {@code fd} is an open descriptor of this process. */
    static boolean isOpen(int fd) {
        return fd >= 0 && posix().fcntl(fd, Fcntl.F_GETFD) >= 0;
    }
}
