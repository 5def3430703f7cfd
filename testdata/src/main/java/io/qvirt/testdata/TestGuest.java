package io.qvirt.testdata;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * Where the test guest built by {@code testdata/build-guest.sh} lives, and the files it is made of.
 *
 * <p>The directory comes from the system property {@code qvirt.guest.dir} (set by the Maven build),
 * else the environment variable {@code QVIRT_GUEST_DIR}, else {@code testdata/build/guest} under the
 * project root found by walking up from the working directory.
 */
public final class TestGuest {
    /** Guest RAM for tests: Debian's cloud kernel needs at least 72 MiB (its decompressor ~51 MiB). */
    public static final int MEMORY_MIB = 128;

    /**
     * Guest RAM for EFI tests: GRUB 2.06 under OVMF runs out of memory loading the kernel below ~256 MiB, and
     * the SMM (Secure Boot) build of OVMF needs more still; 512 MiB boots both.
     */
    public static final int EFI_MEMORY_MIB = 512;

    /** Kernel command line used for direct kernel boot (the disk image's syslinux.cfg uses the same). */
    public static final String KERNEL_ARGS = "console=ttyS0 panic=-1 quiet";

    private final Path dir;

    private TestGuest(Path dir) {
        this.dir = dir;
    }

    /**
     * Returns the built guest.
     *
     * @throws IllegalStateException if the guest was not built, naming the command that builds it
     */
    public static TestGuest get() {
        Path dir = locate();
        if (!Files.isRegularFile(dir.resolve("DONE"))) {
            throw new IllegalStateException("test guest not built at " + dir
                    + ": run testdata/build-guest.sh (./test.sh does)");
        }
        return new TestGuest(dir);
    }

    private static Path locate() {
        String prop = System.getProperty("qvirt.guest.dir");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop);
        }
        String env = System.getenv("QVIRT_GUEST_DIR");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        return projectRoot().resolve("testdata/build/guest");
    }

    /** The project's root: system property {@code qvirt.root}, else the nearest parent holding testdata/. */
    public static Path projectRoot() {
        String prop = System.getProperty("qvirt.root");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop).toAbsolutePath().normalize();
        }
        Path p = Path.of("").toAbsolutePath();
        for (Path q = p; q != null; q = q.getParent()) {
            if (Files.isDirectory(q.resolve("testdata")) && Files.isRegularFile(q.resolve("pom.xml"))) {
                return q;
            }
        }
        throw new IllegalStateException("cannot find the qvirt project root above " + p);
    }

    public Path dir() {
        return dir;
    }

    public Path kernel() {
        return dir.resolve("vmlinuz");
    }

    public Path initrd() {
        return dir.resolve("initrd.gz");
    }

    /** The bootable disk as qcow2; never write to it: use an overlay or {@code snapshot=on}. */
    public Path diskQcow2() {
        return dir.resolve("disk.qcow2");
    }

    public Path diskRaw() {
        return dir.resolve("disk.img");
    }

    /**
     * The EFI disk with Debian's Secure Boot chain (shim signed by Microsoft's UEFI CA, GRUB and the kernel
     * signed by Debian) as qcow2: boots under OVMF with Secure Boot on (Microsoft's keys enrolled) and off.
     * Never write to it: use an overlay or {@code snapshot=on}.
     */
    public Path efiSignedQcow2() {
        return dir.resolve("efi-signed.qcow2");
    }

    /**
     * The EFI disk whose {@code \EFI\BOOT\BOOTX64.EFI} is GRUB with its signature removed, as qcow2: boots
     * under OVMF without Secure Boot only; with Secure Boot OVMF refuses it ("Access Denied").
     */
    public Path efiUnsignedQcow2() {
        return dir.resolve("efi-unsigned.qcow2");
    }

    /** OCI image layout with {@code guest:latest} (containerDisk) and {@code kernel:latest} (kernelBoot). */
    public Path ociLayout() {
        return dir.resolve("oci");
    }

    /** Build facts: kernel_package, kernel_version, kernel_release, busybox, shim_signed, grub_efi_amd64_signed, key. */
    public Properties properties() {
        Properties p = new Properties();
        try (var in = Files.newInputStream(dir.resolve("guest.properties"))) {
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }

    /** The seed's demo VM, byte for byte. */
    public static Path seedVmYaml() {
        return projectRoot().resolve("testdata/vm.yaml");
    }

    /** The seed VM with only what this machine forces changed (image, memory). */
    public static Path testVmYaml() {
        return projectRoot().resolve("testdata/testvm.yaml");
    }
}
