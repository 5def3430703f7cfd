package io.qvirt.launcher.runtime;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;
import java.util.function.IntUnaryOperator;

/**
 * Host ports for forwards on one machine: the guest's port if it is free on the bind address, else a
 * free one the kernel picks, never the same port twice for one VM. (Free now can be taken before QEMU
 * binds it; QEMU then fails to start and says which port.)
 */
public final class HostPorts implements IntUnaryOperator {
    private final InetAddress addr;
    private final Set<Integer> taken = new HashSet<>();

    public HostPorts(InetAddress addr) {
        this.addr = addr;
    }

    @Override
    public int applyAsInt(int guestPort) {
        if (!taken.contains(guestPort) && free(guestPort)) {
            taken.add(guestPort);
            return guestPort;
        }
        for (int i = 0; i < 20; i++) {
            try (ServerSocket s = new ServerSocket(0, 1, addr)) {
                int p = s.getLocalPort();
                if (taken.add(p)) {
                    return p;
                }
            } catch (IOException e) {
                throw new LauncherException("no free port on " + addr.getHostAddress() + ": " + e.getMessage(), e);
            }
        }
        throw new LauncherException("no free port on " + addr.getHostAddress());
    }

    private boolean free(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, addr)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
