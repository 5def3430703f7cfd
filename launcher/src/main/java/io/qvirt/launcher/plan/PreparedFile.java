package io.qvirt.launcher.plan;

import java.nio.file.Path;
import java.util.Map;

/**
 * A file the VM needs that qvirt makes before QEMU starts (see {@code VmPreparer}).
 * Every kind names the spec field it comes from, for error messages.
 */
public sealed interface PreparedFile {
    /** Where the file goes. */
    Path path();

    /** The spec field it comes from. */
    String field();

    /** Whether it is deleted when the VM's directory goes (emptyDisk, overlays, ISOs: yes; hostDisk: no). */
    boolean removeWithVm();

    /** hostDisk DiskOrCreate: a sparse raw image of {@code sizeBytes}, made only if absent, kept after the VM. */
    record SparseRaw(Path path, long sizeBytes, String field) implements PreparedFile {
        @Override
        public boolean removeWithVm() {
            return false;
        }
    }

    /** emptyDisk: a new qcow2 image of {@code sizeBytes} in the VM's directory. */
    record NewQcow2(Path path, long sizeBytes, String field) implements PreparedFile {
        @Override
        public boolean removeWithVm() {
            return true;
        }
    }

    /**
     * containerDisk: a qcow2 overlay over a read-only base (the cached image's disk), so the base is never
     * written and every VM writes its own file.
     */
    record Overlay(Path path, Path backing, ImageFormat backingFormat, String field) implements PreparedFile {
        @Override
        public boolean removeWithVm() {
            return true;
        }
    }

    /** bootloader.efi: a private copy of {@code source} (OVMF's variable store template) in the VM's directory. */
    record Copy(Path path, Path source, String field) implements PreparedFile {
        @Override
        public boolean removeWithVm() {
            return true;
        }
    }

    /**
     * cloudInitNoCloud: an ISO 9660 image (Joliet and Rock Ridge names) with volume id {@code volumeId}
     * holding {@code files} (name to exact bytes).
     */
    record Iso(Path path, String volumeId, Map<String, byte[]> files, String field) implements PreparedFile {
        public Iso {
            files = Map.copyOf(files);
        }

        @Override
        public boolean removeWithVm() {
            return true;
        }
    }
}
