package io.qvirt.launcher.runtime;

/** The launcher's version, from the jar's manifest when built. */
public final class Version {
    public static final String QVIRT = version();

    private Version() {
    }

    private static String version() {
        String v = Version.class.getPackage().getImplementationVersion();
        return v != null ? v : "0.1.0-SNAPSHOT";
    }
}
