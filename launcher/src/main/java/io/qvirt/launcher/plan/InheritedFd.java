package io.qvirt.launcher.plan;

/**
 * An fd QEMU inherits, by role. The plan only names roles and the number each gets in QEMU (3, 4, ...
 * in plan order); whoever starts QEMU makes the sockets and hands them over in that order.
 */
public enum InheritedFd {
    /** One end of a socket pair: the owner's private QMP monitor ({@code launcher run}, the handler). */
    OWNER_QMP,
    /** The listening socket bound at {@code qmp.sock}: a QMP monitor for any manager. */
    MANAGER_QMP,
    /** The listening socket bound at {@code console.sock}: the serial console, one client at a time. */
    CONSOLE
}
