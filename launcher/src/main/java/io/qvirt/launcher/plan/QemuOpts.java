package io.qvirt.launcher.plan;

import java.util.ArrayList;
import java.util.List;

/**
 * One QEMU option value in QEMU's {@code key=value,key=value} syntax. Values are escaped the way
 * QEMU's option parser expects (a comma is written twice), so a spec value such as a disk serial
 * {@code "x,file=/etc/shadow"} stays one value and can never add an option.
 */
public final class QemuOpts {
    private final List<String> parts = new ArrayList<>();

    private QemuOpts(String head) {
        if (head != null) {
            parts.add(escape(head));
        }
    }

    /** Starts with a bare first element, e.g. {@code virtio-blk-pci} in {@code -device virtio-blk-pci,...}. */
    public static QemuOpts of(String head) {
        return new QemuOpts(head);
    }

    /** Starts with no bare element. */
    public static QemuOpts keys() {
        return new QemuOpts(null);
    }

    public QemuOpts put(String key, String value) {
        parts.add(key + "=" + escape(value));
        return this;
    }

    public QemuOpts put(String key, long value) {
        return put(key, Long.toString(value));
    }

    public QemuOpts putIf(boolean cond, String key, String value) {
        return cond ? put(key, value) : this;
    }

    /** Commas are doubled; other characters are passed through (argv is never a shell string). */
    public static String escape(String v) {
        if (v.indexOf('\n') >= 0 || v.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("value contains a newline or NUL: " + v);
        }
        return v.replace(",", ",,");
    }

    @Override
    public String toString() {
        return String.join(",", parts);
    }
}
