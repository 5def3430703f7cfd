package io.qvirt.kvmprobe;

import jnr.constants.platform.Errno;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Native layer turns errno into a NativeException naming the call. */
class NativeTest {
    @Test
    void ioctlOnABadFdIsEbadfNamingTheCall() throws Exception {
        NativeException e = assertThrows(NativeException.class,
                () -> Native.get().ioctl(987_654, Kvm.GET_API_VERSION, 0, "KVM_GET_API_VERSION"));
        assertEquals(Errno.EBADF, e.errno());
        assertEquals("EBADF", e.errnoName());
        assertEquals("ioctl(KVM_GET_API_VERSION)", e.call());
        assertTrue(e.getMessage().startsWith("ioctl(KVM_GET_API_VERSION) failed: EBADF"), e.getMessage());
    }

    @Test
    void openOfAMissingFileIsEnoent(/* and the path is named */) {
        NativeException e = assertThrows(NativeException.class,
                () -> Native.get().open("/nonexistent/qvirt-kvm", Native.O_RDWR));
        assertTrue(e.is(Errno.ENOENT), e.getMessage());
        assertTrue(e.getMessage().contains("/nonexistent/qvirt-kvm"), e.getMessage());
    }

    @Test
    void ioctlOnNonKvmFileIsEnotty() throws Exception {
        Native n = Native.get();
        int fd = n.open("/dev/null", Native.O_RDWR);
        try {
            NativeException e = assertThrows(NativeException.class,
                    () -> n.ioctl(fd, Kvm.GET_API_VERSION, 0, "KVM_GET_API_VERSION"));
            assertTrue(e.is(Errno.ENOTTY), e.getMessage());
        } finally {
            n.close(fd);
        }
    }

    @Test
    void closeTwiceIsEbadf(/* close checks its return */) throws Exception {
        Path f = Files.createTempFile("kvmprobe", ".tmp");
        try {
            Native n = Native.get();
            int fd = n.open(f.toString(), Native.O_RDONLY);
            assertNotEquals(-1, fd);
            n.close(fd);
            NativeException e = assertThrows(NativeException.class, () -> n.close(fd));
            assertTrue(e.is(Errno.EBADF), e.getMessage());
        } finally {
            Files.deleteIfExists(f);
        }
    }

    @Test
    void mmapFailureIsTyped() {
        NativeException e = assertThrows(NativeException.class, () -> Native.get().mmap(4096,
                Native.PROT_READ, Native.MAP_SHARED, 987_654, 0, "bad fd"));
        assertTrue(e.is(Errno.EBADF), e.getMessage());
        assertEquals("mmap(bad fd)", e.call());
    }

    @Test
    void unknownErrnoStillDescribes() {
        NativeException e = new NativeException("ioctl(X)", 4242);
        assertEquals("errno 4242", e.errnoName());
    }
}
