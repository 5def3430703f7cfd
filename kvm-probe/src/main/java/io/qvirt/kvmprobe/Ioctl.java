package io.qvirt.kvmprobe;

/** Linux's _IO/_IOR/_IOW/_IOWR request encoding (asm-generic/ioctl.h, as on x86). */
final class Ioctl {
    private Ioctl() {
    }

    static final int NRBITS = 8;
    static final int TYPEBITS = 8;
    static final int SIZEBITS = 14;
    static final int NRSHIFT = 0;
    static final int TYPESHIFT = NRSHIFT + NRBITS;
    static final int SIZESHIFT = TYPESHIFT + TYPEBITS;
    static final int DIRSHIFT = SIZESHIFT + SIZEBITS;
    static final int NONE = 0;
    static final int WRITE = 1;
    static final int READ = 2;

    static long ioc(int dir, int type, int nr, int size) {
        if (size < 0 || size >= (1 << SIZEBITS)) {
            throw new IllegalArgumentException("ioctl size out of range: " + size);
        }
        return ((long) dir << DIRSHIFT) | ((long) type << TYPESHIFT) | ((long) nr << NRSHIFT)
                | ((long) size << SIZESHIFT);
    }

    static long io(int type, int nr) {
        return ioc(NONE, type, nr, 0);
    }

    static long ior(int type, int nr, int size) {
        return ioc(READ, type, nr, size);
    }

    static long iow(int type, int nr, int size) {
        return ioc(WRITE, type, nr, size);
    }

    static long iowr(int type, int nr, int size) {
        return ioc(READ | WRITE, type, nr, size);
    }
}
