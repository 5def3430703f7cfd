package io.qvirt.launcher.runtime;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.model.Interface;
import io.qvirt.api.model.Network;
import io.qvirt.launcher.plan.PlumbedPodNetwork;
import io.qvirt.launcher.plan.RuntimePaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The launcher's side of {@code bridge} on a cluster, and the files both sides read. {@code launcher exec} becomes
 * QEMU, so no launcher process is left to plumb the pod's network or answer the guest's DHCP: virt-handler does
 * both, from inside the pod's network namespace. In the VM's directory:
 * <ol>
 * <li>the launcher writes {@value #REQUEST} ({@link Request}: its pid, which stays QEMU's after execv, the VMI's
 *     uid and the bridge interfaces) and waits;</li>
 * <li>the handler plumbs (bridge, tap) and starts answering DHCP, then writes {@value #READY} ({@link Ready}: per
 *     interface the tap, the guest's MAC and the MTU, or an error), atomically;</li>
 * <li>the launcher plans the tap netdevs from it and becomes QEMU.</li>
 * </ol>
 * Both files stay while the VM runs: a restarted handler finds what it plumbed there.
 */
public final class NetworkHandshake {
    public static final String REQUEST = "network-request.json";
    public static final String READY = "network-ready.json";
    /** What KubeVirt calls the pod's interface on the pod network. */
    public static final String POD_INTERFACE = "eth0";
    private static final Pattern MAC = Pattern.compile("[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}");
    private static final Pattern IFNAME = Pattern.compile("[A-Za-z0-9_.-]{1,15}");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .setSerializationInclusion(JsonInclude.Include.NON_NULL);

    private NetworkHandshake() {
    }

    /**
     * {@value #REQUEST}.
     *
     * @param pid        the launcher's pid in its own pid namespace, QEMU's after execv: the handler enters that
     *                   process's network namespace
     * @param pidNamespace the launcher's pid namespace ({@code pid:[INODE]}, the link /proc/self/ns/pid): with
     *                   {@code pid}, how the handler (hostPID, so other pids) finds the launcher's process; a pid is
     *                   unique only within its namespace (the launcher is often pid 1 in its pod, as the host's init
     *                   is on the host)
     * @param dir        the VM's directory as the launcher sees it: the handler checks that the process it found
     *                   sees this very request there
     * @param uid        the VMI's uid, so a request of an older VMI of the same name is never answered
     * @param interfaces the bridge interfaces on the pod network
     */
    public record Request(long pid, String pidNamespace, String dir, String uid, List<RequestedInterface> interfaces) {}

    /**
     * @param name         {@code spec.domain.devices.interfaces[].name}
     * @param podInterface the pod's interface it is bridged to ({@value #POD_INTERFACE})
     * @param macAddress   the spec's {@code macAddress}, or null: then the guest gets the pod interface's own MAC
     */
    public record RequestedInterface(String name, String podInterface, String macAddress) {}

    /** {@value #READY}: {@code interfaces} when plumbed, else {@code error} saying why not. */
    public record Ready(List<ReadyInterface> interfaces, String error) {}

    /**
     * @param name the interface's name, as requested
     * @param tap  the tap QEMU opens
     * @param mac  the MAC the guest's NIC must have
     * @param mtu  the pod network's MTU
     */
    public record ReadyInterface(String name, String tap, String mac, int mtu) {}

    public static Path requestFile(RuntimePaths p) {
        return p.dir().resolve(REQUEST);
    }

    public static Path readyFile(RuntimePaths p) {
        return p.dir().resolve(READY);
    }

    /** The request for the VMI's bridge interfaces on the pod network, or null if it has none. */
    public static Request request(VirtualMachineInstance vmi, long pid, RuntimePaths p) {
        var dev = vmi.getSpec().getDomain().getDevices();
        List<Interface> ifaces = dev == null || dev.getInterfaces() == null ? List.of() : dev.getInterfaces();
        List<Network> nets = vmi.getSpec().getNetworks() == null ? List.of() : vmi.getSpec().getNetworks();
        List<RequestedInterface> out = new ArrayList<>();
        for (Interface i : ifaces) {
            boolean pod = nets.stream().anyMatch(n -> i.getName().equals(n.getName()) && n.getPod() != null);
            if (pod && i.getBridge() != null) {
                out.add(new RequestedInterface(i.getName(), POD_INTERFACE, i.getMacAddress()));
            }
        }
        if (out.isEmpty()) {
            return null;
        }
        String pidNs;
        try {
            pidNs = Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString();
        } catch (IOException e) {
            throw new LauncherException("cannot read /proc/self/ns/pid (the node agent finds the launcher by it): "
                    + e.getMessage(), e);
        }
        return new Request(pid, pidNs, p.dir().toAbsolutePath().toString(), vmi.getMetadata().getUid(), List.copyOf(out));
    }

    /** Writes {@code value} as JSON to {@code file} atomically (a temporary file in the same directory, renamed). */
    public static void write(Path file, Object value) {
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        try {
            JSON.writeValue(tmp.toFile(), value);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the directory goes with the VM
            }
            throw new LauncherException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** The file as {@code type}, or null if it does not exist. */
    public static <T> T read(Path file, Class<T> type) {
        try {
            return JSON.readValue(Files.readAllBytes(file), type);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new LauncherException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Writes the request into the VM's directory and waits for the node agent's answer. On any failure (no answer
     * within {@code timeout}, the node agent's error, an answer that does not fit the request) the request is
     * removed again and a {@link LauncherException} says what happened.
     *
     * @param poll how often to look for the answer
     */
    public static PlumbedPodNetwork await(RuntimePaths p, Request request, Duration timeout, Duration poll) {
        Path req = requestFile(p);
        Path ready = readyFile(p);
        write(req, request);
        boolean ok = false;
        try {
            long deadline = System.nanoTime() + timeout.toNanos();
            Ready answer;
            while ((answer = read(ready, Ready.class)) == null) {
                if (System.nanoTime() - deadline >= 0) {
                    throw new LauncherException("no answer from the node agent within " + (timeout.toMillis() % 1000 == 0
                            ? timeout.toSeconds() + " s" : timeout.toMillis() + " ms") + ": "
                            + "virt-handler on this node plumbs the pod network for a bridge interface ("
                            + names(request) + ") when it finds " + req + " and answers in " + ready + "; is virt-handler "
                            + "running on this node, with the same runtime root? (launcher exec --network-wait SECONDS)");
                }
                Thread.sleep(poll.toMillis());
            }
            PlumbedPodNetwork n = check(request, answer, ready);
            ok = true;
            return n;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LauncherException("interrupted while waiting for " + ready, e);
        } finally {
            if (!ok) {
                try {
                    Files.deleteIfExists(req);
                    Files.deleteIfExists(ready);
                } catch (IOException e) {
                    // the caller removes the VM's directory next
                }
            }
        }
    }

    /** The answer as the plan needs it. @throws LauncherException if it is an error or does not fit the request */
    static PlumbedPodNetwork check(Request request, Ready answer, Path file) {
        if (answer.error() != null) {
            throw new LauncherException("the node agent could not plumb the pod network for " + names(request) + ": "
                    + answer.error());
        }
        Map<String, PlumbedPodNetwork.Tap> taps = new LinkedHashMap<>();
        List<ReadyInterface> got = answer.interfaces() == null ? List.of() : answer.interfaces();
        for (int i = 0; i < got.size(); i++) {
            ReadyInterface r = got.get(i);
            String at = file + ": interfaces[" + i + "]";
            if (r == null || r.name() == null) {
                throw new LauncherException(at + ".name: missing");
            }
            if (r.tap() == null || !IFNAME.matcher(r.tap()).matches()) {
                throw new LauncherException(at + ".tap: '" + r.tap() + "' is not an interface name (1-15 of A-Z a-z 0-9 _ . -)");
            }
            if (r.mac() == null || !MAC.matcher(r.mac()).matches()) {
                throw new LauncherException(at + ".mac: '" + r.mac() + "' is not a MAC address (xx:xx:xx:xx:xx:xx)");
            }
            if (r.mtu() < 68 || r.mtu() > 65535) {
                throw new LauncherException(at + ".mtu: " + r.mtu() + " is not an MTU (68-65535)");
            }
            taps.put(r.name(), new PlumbedPodNetwork.Tap(r.tap(), r.mac(), r.mtu()));
        }
        for (RequestedInterface want : request.interfaces()) {
            if (!taps.containsKey(want.name())) {
                throw new LauncherException(file + ": no tap for interface '" + want.name() + "'");
            }
        }
        return PlumbedPodNetwork.ready(taps);
    }

    private static String names(Request r) {
        return String.join(", ", r.interfaces().stream().map(RequestedInterface::name).toList());
    }
}
