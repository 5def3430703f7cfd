package io.qvirt.launcher.plan;

import java.nio.file.Path;

/**
 * A file the VM needs that qvirt makes before QEMU starts.
 *
 * @param path      where
 * @param kind      what: {@link Kind#QCOW2} (a new qcow2 image of {@code sizeBytes}), {@link Kind#SPARSE_RAW}
 *                  (a sparse raw image of {@code sizeBytes}, only if absent)
 * @param sizeBytes the image size
 * @param removeWithVm whether it is deleted when the VM's directory goes (emptyDisk: yes; hostDisk: no)
 * @param field     the spec field it comes from, for error messages
 */
public record PreparedFile(Path path, Kind kind, long sizeBytes, boolean removeWithVm, String field) {
    public enum Kind { QCOW2, SPARSE_RAW }
}
