package io.qvirt.handler.net;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/**
 * The one lease of a bridge interface: the pod's own address for the guest's MAC, forever (KubeVirt's infinite
 * lease: the pod's address never changes while the pod lives). Addresses are dotted quads; the record refuses
 * anything else, so a lease read back from disk is as good as a fresh one.
 *
 * @param mac      the guest's MAC ({@code xx:xx:xx:xx:xx:xx}, lower case)
 * @param ip       the pod's IPv4 address, now the guest's
 * @param prefix   its prefix length (0-32)
 * @param gateway  the pod's default gateway, or null without a default route
 * @param dns      name servers from the pod's resolv.conf
 * @param search   search domains from the pod's resolv.conf
 * @param hostname the VMI's {@code spec.hostname}, else its name
 * @param mtu      the pod network's MTU
 * @param serverId the server identifier, the address of the in-pod bridge ({@value BridgePlumber#BRIDGE_ADDRESS})
 */
public record DhcpLease(String mac, String ip, int prefix, String gateway, List<String> dns, List<String> search,
                        String hostname, int mtu, String serverId) {
    public DhcpLease {
        mac = mac.toLowerCase(java.util.Locale.ROOT);
        DhcpCodec.macBytes(mac);
        parse(ip);
        if (prefix < 0 || prefix > 32) {
            throw new IllegalArgumentException("prefix " + prefix + ": must be 0-32");
        }
        if (gateway != null) {
            parse(gateway);
        }
        dns = List.copyOf(dns);
        dns.forEach(DhcpLease::parse);
        search = List.copyOf(search);
        DhcpReplies.searchList(search); // refuses a label over 63 bytes now, not in a reply
        if (hostname != null && hostname.length() > 255) {
            throw new IllegalArgumentException("hostname over 255 bytes");
        }
        if (mtu < 68 || mtu > 65535) {
            throw new IllegalArgumentException("mtu " + mtu + ": must be 68-65535");
        }
        parse(serverId);
    }

    /** A dotted quad as an address (never a name lookup). */
    static Inet4Address parse(String a) {
        if (a == null || !a.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
            throw new IllegalArgumentException("'" + a + "' is not an IPv4 address");
        }
        String[] p = a.split("\\.");
        byte[] b = new byte[4];
        for (int i = 0; i < 4; i++) {
            int v = Integer.parseInt(p[i]);
            if (v > 255) {
                throw new IllegalArgumentException("'" + a + "' is not an IPv4 address");
            }
            b[i] = (byte) v;
        }
        try {
            return (Inet4Address) InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
