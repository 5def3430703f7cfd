package io.qvirt.qmp;

import java.util.List;

/**
 * The server's greeting, {@code {"QMP": {"version": {"qemu": {major, minor, micro}, "package": ...},
 * "capabilities": [...]}}}.
 *
 * @param capabilities what the server offers, e.g. {@code oob}; never null
 */
public record QmpGreeting(int major, int minor, int micro, String packageName, List<String> capabilities)
        implements QmpMessage {
    public QmpGreeting {
        capabilities = List.copyOf(capabilities);
        packageName = packageName == null ? "" : packageName;
    }

    /** Whether the server offers {@code capability} (e.g. {@code "oob"}). */
    public boolean offers(String capability) {
        return capabilities.contains(capability);
    }

    /** "major.minor.micro". */
    public String version() {
        return major + "." + minor + "." + micro;
    }
}
