package io.qvirt.qmp;

/** {@code query-version}. */
public record QemuVersion(int major, int minor, int micro, String packageName) {
    @Override
    public String toString() {
        return major + "." + minor + "." + micro + (packageName.isEmpty() ? "" : " (" + packageName.strip() + ")");
    }
}
