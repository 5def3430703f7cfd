package io.qvirt.handler.net;

import io.qvirt.launcher.plan.RuntimePaths;
import io.qvirt.launcher.runtime.NetworkHandshake;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * virt-handler's side of {@code bridge} on the pod network (see {@link NetworkHandshake} for the launcher's): for a
 * VM whose directory has {@value NetworkHandshake#REQUEST} and no {@value NetworkHandshake#READY}, finds the
 * launcher's process, refuses when its network namespace is the handler's own (nothing to plumb: the one-machine
 * rig's FAKE node agent runs pods as local processes without one), plumbs it ({@link BridgePlumber}), starts the
 * DHCP server ({@link DhcpResponder}), keeps the lease in {@value #LEASE}, and answers. A VM already answered (a
 * restarted handler) only gets its DHCP server back from {@value #LEASE}. One server per VM key, stopped by
 * {@link #stop} or {@link #close}.
 */
public final class BridgeNetworks implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(BridgeNetworks.class.getName());
    /** The handler's own record of what it plumbed, for its restart. */
    public static final String LEASE = "network-lease.json";

    private record Serving(String uid, DhcpResponder responder) {}

    private final BridgePlumber plumber;
    private final Map<String, Serving> serving = new ConcurrentHashMap<>();

    public BridgeNetworks() {
        this(new BridgePlumber());
    }

    BridgeNetworks(BridgePlumber plumber) {
        this.plumber = plumber;
    }

    /**
     * Plumbs and serves the VM's bridge interfaces if its launcher asks (idempotent; cheap when there is nothing
     * to do). Precondition: the VMI {@code uid} is on this node and neither final nor gone.
     *
     * @param key      {@code namespace/name}
     * @param hostname what DHCP gives the guest ({@code spec.hostname}, else the VMI's name)
     * @return null, or why the pod network cannot be plumbed (already answered to the launcher as an error): the
     *         VMI's failure
     */
    public String ensure(String key, String uid, String hostname, RuntimePaths p) {
        Serving s = serving.get(key);
        if (s != null) {
            if (s.uid().equals(uid) && s.responder().alive()) {
                return null;
            }
            stop(key);
        }
        Path reqFile = NetworkHandshake.requestFile(p);
        if (!Files.exists(reqFile)) {
            return null;
        }
        NetworkHandshake.Request req;
        NetworkHandshake.Ready ready;
        try {
            req = NetworkHandshake.read(reqFile, NetworkHandshake.Request.class);
            ready = NetworkHandshake.read(NetworkHandshake.readyFile(p), NetworkHandshake.Ready.class);
        } catch (RuntimeException e) {
            LOG.warning(key + ": " + e.getMessage());
            return null; // half-written by hand? the launcher writes both atomically
        }
        if (req == null || !uid.equals(req.uid()) || (ready != null && ready.error() != null)) {
            return null; // another VMI's, or answered with an error already
        }
        long pid = hostPid(req, reqFile, key);
        if (pid < 0) {
            return null; // the launcher is gone (or not visible yet): its pod tells the rest
        }
        if (ready != null) {
            return resume(key, uid, pid, p);
        }
        try {
            String own = netns("self");
            if (own.equals(netns(Long.toString(pid)))) {
                throw new IOException("the launcher's network namespace (pid " + pid + ", " + own + ") is virt-handler's "
                        + "own: no pod network namespace to plumb (the one-machine rig's FAKE node agent runs pods as "
                        + "local processes without one); bridge runs on a cluster, use masquerade here");
            }
            if (req.interfaces().size() != 1) {
                throw new IOException("bridge on the pod network: one interface, the pod network's, not "
                        + req.interfaces().size());
            }
            NetworkHandshake.RequestedInterface want = req.interfaces().get(0);
            BridgePlumber.Plumbed done = plumber.plumb(pid, want.podInterface(), BridgePlumber.uidOf(pid));
            String guestMac = want.macAddress() != null ? want.macAddress().toLowerCase(java.util.Locale.ROOT) : done.pod().mac();
            Resolv dns = Resolv.parse(readResolv(pid));
            DhcpLease lease = new DhcpLease(guestMac, done.pod().ip(), done.pod().prefix(), done.gateway(), dns.servers(),
                    dns.search(), hostname, done.pod().mtu(), BridgePlumber.BRIDGE_ADDRESS);
            NetworkHandshake.write(p.dir().resolve(LEASE), lease);
            serving.put(key, new Serving(uid, DhcpResponder.start(key, pid, lease)));
            NetworkHandshake.write(NetworkHandshake.readyFile(p), new NetworkHandshake.Ready(List.of(
                    new NetworkHandshake.ReadyInterface(want.name(), done.tap(), guestMac, done.pod().mtu())), null));
            LOG.info(key + ": pod network plumbed for bridge: guest " + guestMac + " gets " + lease.ip() + "/" + lease.prefix()
                    + " via " + lease.gateway() + " (tap " + done.tap() + ", bridge " + BridgePlumber.BRIDGE + ")");
            return null;
        } catch (IOException | RuntimeException e) {
            String why = "bridge on the pod network: cannot plumb the launcher pod's network namespace: " + e.getMessage();
            LOG.log(Level.WARNING, key + ": " + why, e);
            stop(key);
            try {
                NetworkHandshake.write(NetworkHandshake.readyFile(p), new NetworkHandshake.Ready(null, why));
            } catch (RuntimeException w) {
                LOG.warning(key + ": " + w.getMessage());
            }
            return why;
        }
    }

    /** A restarted handler: the DHCP server again, from the lease it wrote. */
    private String resume(String key, String uid, long pid, RuntimePaths p) {
        try {
            DhcpLease lease = NetworkHandshake.read(p.dir().resolve(LEASE), DhcpLease.class);
            if (lease == null) {
                LOG.warning(key + ": answered but no " + LEASE + ": its guest gets no DHCP answers from this handler");
                return null;
            }
            serving.put(key, new Serving(uid, DhcpResponder.start(key, pid, lease)));
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, key + ": DHCP cannot resume: " + e.getMessage(), e);
        }
        return null;
    }

    /** True while a DHCP server runs for {@code key}. */
    public boolean serves(String key) {
        Serving s = serving.get(key);
        return s != null && s.responder().alive();
    }

    /** Stops the VM's DHCP server, if any (its sockets closed). */
    public void stop(String key) {
        Serving s = serving.remove(key);
        if (s != null) {
            s.responder().close();
            LOG.info(key + ": DHCP stopped");
        }
    }

    @Override
    public void close() {
        new ArrayList<>(serving.keySet()).forEach(this::stop);
    }

    private static String netns(String pid) throws IOException {
        return Files.readSymbolicLink(Path.of("/proc", pid, "ns", "net")).toString();
    }

    private static String readResolv(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "root", "etc", "resolv.conf"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            LOG.warning("pid " + pid + " has no readable /etc/resolv.conf (" + e.getMessage() + "): the guest gets no DNS");
            return "";
        }
    }

    /**
     * The launcher's pid as this host sees it. The request has its pid in the pod's pid namespace, which the
     * handler (hostPID) does not share: the process is the one in the request's pid namespace (the namespace link's
     * inode, the same seen from anywhere) whose innermost pid ({@code NSpid}) is the requested one, and whose root
     * sees this very request file at the directory it names, and which is this VMI's (its command line names the
     * VMI's uid, as {@code launcher exec --vmi-json} does, or it is already the QEMU named
     * {@code guest=<namespace>_<name>}: every launcher pod mounts the whole runtime root, so seeing the file alone
     * does not make a process this VM's). The pid itself is tried first (one pid namespace, as in tests). -1 if none.
     *
     * @param key {@code namespace/name}
     */
    static long hostPid(NetworkHandshake.Request req, Path requestFile, String key) {
        if (req.dir() == null || !req.dir().startsWith("/") || req.dir().contains("..") || req.pidNamespace() == null) {
            return -1;
        }
        String qemuMarker = "guest=" + key.replace('/', '_') + ",";
        if (isLauncher(req.pid(), req, requestFile, qemuMarker)) {
            return req.pid();
        }
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), x -> x.getFileName().toString().matches("[0-9]+"))) {
            for (Path proc : procs) {
                long pid = Long.parseLong(proc.getFileName().toString());
                if (isLauncher(pid, req, requestFile, qemuMarker)) {
                    return pid;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    private static boolean isLauncher(long pid, NetworkHandshake.Request req, Path requestFile, String qemuMarker) {
        try {
            return req.pidNamespace().equals(Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "ns", "pid")).toString())
                    && innermostPid(pid) == req.pid() && sees(pid, req, requestFile) && isThisVmis(pid, req.uid(), qemuMarker);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static boolean isThisVmis(long pid, String uid, String qemuMarker) throws IOException {
        String[] args = new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")), StandardCharsets.UTF_8)
                .split("\0");
        for (int i = 0; i < args.length; i++) {
            if (uid != null && !uid.isEmpty() && args[i].contains("\"" + uid + "\"")) {
                return true; // launcher exec --vmi-json '{... "uid":"<uid>" ...}'
            }
            if (args[i].equals("-name") && i + 1 < args.length && (args[i + 1] + ",").startsWith(qemuMarker)) {
                return true; // QEMU after execv (a restarted handler)
            }
        }
        return false;
    }

    private static boolean sees(long pid, NetworkHandshake.Request req, Path requestFile) {
        try {
            Path there = Path.of("/proc", Long.toString(pid), "root", req.dir().substring(1), NetworkHandshake.REQUEST);
            return Files.isSameFile(there, requestFile);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static long innermostPid(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("NSpid:")) {
                    String[] f = line.substring(6).trim().split("\\s+");
                    return Long.parseLong(f[f.length - 1]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** The name servers (IPv4) and search domains of a resolv.conf. */
    record Resolv(List<String> servers, List<String> search) {
        static Resolv parse(String text) {
            List<String> servers = new ArrayList<>();
            List<String> search = new ArrayList<>();
            String domain = null;
            for (String raw : text.split("\n")) {
                String line = raw.strip();
                if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
                    continue;
                }
                String[] f = line.split("\\s+");
                if (f[0].equals("nameserver") && f.length > 1 && f[1].matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
                    try {
                        DhcpLease.parse(f[1]);
                        servers.add(f[1]);
                    } catch (IllegalArgumentException e) {
                        // not an address: skipped, as the resolver does
                    }
                } else if (f[0].equals("search")) {
                    search = new ArrayList<>(List.of(f).subList(1, f.length)); // the last search line wins
                } else if (f[0].equals("domain") && f.length > 1) {
                    domain = f[1];
                }
            }
            if (search.isEmpty() && domain != null) {
                search.add(domain);
            }
            return new Resolv(List.copyOf(servers), List.copyOf(search));
        }
    }
}
