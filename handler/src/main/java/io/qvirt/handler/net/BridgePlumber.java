package io.qvirt.handler.net;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * KubeVirt's bridge binding on the pod network, in the launcher pod's network namespace: the pod's {@code eth0}
 * gives its address to the guest. Reads eth0's IPv4 address, prefix, MAC and MTU and the default gateway; then
 * <ol>
 * <li>creates the bridge {@value #BRIDGE} (KubeVirt's name);</li>
 * <li>gives eth0 a new random locally administered MAC (the guest takes its original one, so the pod's peers,
 *     which know eth0's MAC, reach the guest) and enslaves it;</li>
 * <li>creates the persistent tap {@value #TAP}, owned by the pod process's uid (so QEMU, not root, may open it),
 *     with eth0's MTU, enslaved too;</li>
 * <li>removes the address from eth0 (it is the guest's now) and gives the bridge KubeVirt's link-local
 *     {@value #BRIDGE_ADDRESS}/32, the DHCP server's address; every link up.</li>
 * </ol>
 * The commands are iproute2's {@code ip}, run as {@code nsenter -t PID -n ip ...} (virt-handler is privileged and
 * runs as root): the handler image needs iproute2 and nsenter. Netlink from Java would save two exec's per VM
 * start but means a netlink codec of its own; {@code ip -j} gives JSON and clear errors. A failure half-way undoes
 * what was done, as far as it can.
 */
public final class BridgePlumber {
    private static final Logger LOG = Logger.getLogger(BridgePlumber.class.getName());
    public static final String BRIDGE = "k6t-eth0";
    public static final String TAP = "tap0";
    /** KubeVirt's fake address of the in-pod bridge: the DHCP server identifier. */
    public static final String BRIDGE_ADDRESS = "169.254.75.10";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Runs a command; returns its stdout. */
    @FunctionalInterface
    interface Commands {
        /** @throws IOException naming the command and its stderr if it fails */
        String run(List<String> argv) throws IOException;
    }

    /**
     * What eth0 had before the plumbing.
     *
     * @param name   the pod's interface ({@code eth0})
     * @param mac    its original MAC
     * @param mtu    its MTU
     * @param ip     its IPv4 address
     * @param prefix that address's prefix length
     */
    public record PodInterface(String name, String mac, int mtu, String ip, int prefix) {}

    /**
     * The result: what QEMU opens and what the guest gets.
     *
     * @param tap     the tap's name
     * @param pod     eth0 before the plumbing (its address is the guest's lease)
     * @param gateway the pod's default gateway, or null
     */
    public record Plumbed(String tap, PodInterface pod, String gateway) {}

    private final Commands commands;

    public BridgePlumber() {
        this(BridgePlumber::exec);
    }

    BridgePlumber(Commands commands) {
        this.commands = commands;
    }

    /**
     * Plumbs the network namespace of process {@code pid} (as this host sees it).
     *
     * @param podInterface the pod's interface to bridge ({@code eth0})
     * @param tapOwner     the uid that may open the tap (the pod process's)
     * @throws IOException if the namespace is not as expected (no IPv4 address on eth0, a bridge already there) or
     *                     a command fails; what was changed is undone first
     */
    public Plumbed plumb(long pid, String podInterface, long tapOwner) throws IOException {
        List<String> names = linkNames(ip(pid, "-j", "link", "show"));
        if (names.contains(BRIDGE) || names.contains(TAP)) {
            throw new IOException("the pod's network namespace already has " + (names.contains(BRIDGE) ? BRIDGE : TAP)
                    + " (plumbed before, by a handler that did not finish?)");
        }
        if (!names.contains(podInterface)) {
            throw new IOException("the pod's network namespace has no " + podInterface + " (it has: " + String.join(", ", names) + ")");
        }
        PodInterface eth = podInterface(ip(pid, "-j", "address", "show", "dev", podInterface));
        String gw = gateway(ip(pid, "-j", "-4", "route", "show", "default"));
        List<List<String>> undo = new ArrayList<>();
        try {
            step(pid, undo, List.of("link", "add", BRIDGE, "type", "bridge"), List.of("link", "del", BRIDGE));
            if (gw != null) {
                // eth0 down drops the default route; undone in reverse: eth0's address, eth0 up, then the route.
                undo.add(List.of("route", "replace", "default", "via", gw, "dev", podInterface));
            }
            step(pid, undo, List.of("link", "set", "dev", podInterface, "down"), List.of("link", "set", "dev", podInterface, "up"));
            step(pid, undo, List.of("link", "set", "dev", podInterface, "address", randomMac()),
                    List.of("link", "set", "dev", podInterface, "address", eth.mac()));
            step(pid, undo, List.of("link", "set", "dev", podInterface, "master", BRIDGE),
                    List.of("link", "set", "dev", podInterface, "nomaster"));
            step(pid, undo, List.of("tuntap", "add", "dev", TAP, "mode", "tap", "user", Long.toString(tapOwner)),
                    List.of("link", "del", TAP));
            step(pid, undo, List.of("link", "set", "dev", TAP, "mtu", Integer.toString(eth.mtu()), "master", BRIDGE), null);
            step(pid, undo, List.of("address", "del", eth.ip() + "/" + eth.prefix(), "dev", podInterface),
                    List.of("address", "add", eth.ip() + "/" + eth.prefix(), "dev", podInterface));
            step(pid, undo, List.of("address", "add", BRIDGE_ADDRESS + "/32", "dev", BRIDGE), null);
            step(pid, undo, List.of("link", "set", "dev", BRIDGE, "mtu", Integer.toString(eth.mtu()), "up"), null);
            step(pid, undo, List.of("link", "set", "dev", podInterface, "up"), null);
            step(pid, undo, List.of("link", "set", "dev", TAP, "up"), null);
        } catch (IOException e) {
            for (int i = undo.size() - 1; i >= 0; i--) {
                try {
                    ip(pid, undo.get(i).toArray(String[]::new));
                } catch (IOException u) {
                    LOG.log(Level.WARNING, "undoing the pod network plumbing of pid " + pid + ": " + u.getMessage());
                }
            }
            throw e;
        }
        return new Plumbed(TAP, eth, gw);
    }

    private void step(long pid, List<List<String>> undo, List<String> args, List<String> reverse) throws IOException {
        ip(pid, args.toArray(String[]::new));
        if (reverse != null) {
            undo.add(reverse);
        }
    }

    private String ip(long pid, String... args) throws IOException {
        List<String> argv = new ArrayList<>(List.of("nsenter", "-t", Long.toString(pid), "-n", "ip"));
        argv.addAll(List.of(args));
        return commands.run(argv);
    }

    /** The interface names of {@code ip -j link show}. */
    static List<String> linkNames(String json) throws IOException {
        List<String> out = new ArrayList<>();
        for (JsonNode l : array(json, "ip -j link show")) {
            out.add(l.path("ifname").asText());
        }
        return out;
    }

    /** The interface of {@code ip -j address show dev NAME}: MAC, MTU and its first global IPv4 address. */
    static PodInterface podInterface(String json) throws IOException {
        JsonNode links = array(json, "ip -j address show");
        if (links.size() != 1) {
            throw new IOException("ip -j address show: expected one interface, got " + links.size());
        }
        JsonNode l = links.get(0);
        String name = l.path("ifname").asText(null);
        String mac = l.path("address").asText(null);
        int mtu = l.path("mtu").asInt(0);
        if (name == null || mac == null || !mac.matches("[0-9a-f]{2}(:[0-9a-f]{2}){5}") || mtu < 68) {
            throw new IOException("ip -j address show: interface without name, Ethernet MAC or MTU: " + l);
        }
        for (JsonNode a : l.path("addr_info")) {
            if ("inet".equals(a.path("family").asText()) && !"host".equals(a.path("scope").asText())) {
                String local = a.path("local").asText(null);
                int prefix = a.path("prefixlen").asInt(-1);
                if (local == null || prefix < 0 || prefix > 32) {
                    throw new IOException("ip -j address show: an inet address without local or prefixlen: " + a);
                }
                DhcpLease.parse(local);
                return new PodInterface(name, mac, mtu, local, prefix);
            }
        }
        throw new IOException(name + " has no IPv4 address: bridge hands the pod's IPv4 address to the guest "
                + "(IPv6-only pod networks are not supported)");
    }

    /** The gateway of {@code ip -j -4 route show default}, or null without one. */
    static String gateway(String json) throws IOException {
        for (JsonNode r : array(json, "ip -j route show default")) {
            String gw = r.path("gateway").asText(null);
            if (gw != null) {
                DhcpLease.parse(gw);
                return gw;
            }
        }
        return null;
    }

    private static JsonNode array(String json, String what) throws IOException {
        JsonNode n;
        try {
            n = JSON.readTree(json.isBlank() ? "[]" : json);
        } catch (IOException e) {
            throw new IOException(what + ": not JSON: " + e.getMessage(), e);
        }
        if (!n.isArray()) {
            throw new IOException(what + ": expected a JSON array, got " + n.getNodeType());
        }
        return n;
    }

    /** A random unicast, locally administered MAC. */
    static String randomMac() {
        byte[] b = new byte[6];
        RANDOM.nextBytes(b);
        b[0] = (byte) ((b[0] & 0xfc) | 0x02);
        return DhcpCodec.mac(b, 0);
    }

    /** The real uid of a process (first field of {@code Uid:} in /proc/PID/status). */
    static long uidOf(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("Uid:")) {
                return Long.parseLong(line.substring(4).trim().split("\\s+")[0]);
            }
        }
        throw new IOException("/proc/" + pid + "/status has no Uid line");
    }

    private static String exec(List<String> argv) throws IOException {
        Process p = new ProcessBuilder(argv).start();
        try {
            p.getOutputStream().close();
            // The outputs are small (one namespace's links): read stderr after stdout.
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new IOException(String.join(" ", argv) + ": no answer within 30 s");
            }
            if (p.exitValue() != 0) {
                throw new IOException(String.join(" ", argv) + " failed (exit " + p.exitValue() + "): " + err.strip());
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IOException("interrupted: " + String.join(" ", argv), e);
        }
    }
}
