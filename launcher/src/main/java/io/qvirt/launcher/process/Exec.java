package io.qvirt.launcher.process;

import java.nio.file.Path;
import java.util.List;

/** Turning this process into another program, pid unchanged. */
public final class Exec {
    private Exec() {
    }

    /**
     * execv: {@code inherit} become fds {@code firstFd}, {@code firstFd+1}, ... of the new program (the
     * numbers its argv names); every other fd above 2 is closed by the exec. Returns only by throwing.
     *
     * @param firstFd from {@link #freeFdBase(int)}: a range no fd of this process uses
     * @throws NativeException if execv fails
     */
    public static void replaceWith(Path executable, List<String> argv, List<Fd> inherit, int firstFd) {
        Native.exec(executable.toString(), argv, inherit.stream().mapToInt(Fd::value).toArray(), firstFd);
    }

    /**
     * The first fd number of a free range for {@code n} inherited fds, above this JVM's own (which must
     * not be overwritten while it runs). Call it after the sockets to inherit exist.
     */
    public static int freeFdBase(int n) {
        return Native.freeFdRange(512, n);
    }

    /** This process's pid. */
    public static long pid() {
        return Native.getpid();
    }
}
