package io.qvirt.launcher.plan;

/**
 * A host port forwarded to a guest port by user-mode networking.
 *
 * @param iface     the spec's interface name
 * @param name      the port's name in the spec (may be null)
 * @param protocol  {@code tcp} or {@code udp}
 * @param hostAddr  address bound on the host
 * @param hostPort  port bound on the host
 * @param guestPort the guest's port
 */
public record HostForward(String iface, String name, String protocol, String hostAddr, int hostPort, int guestPort) {
    @Override
    public String toString() {
        return protocol + " " + hostAddr + ":" + hostPort + " -> guest:" + guestPort
                + (name != null ? " (" + iface + "/" + name + ")" : " (" + iface + ")");
    }
}
