package io.qvirt.handler.net;

import java.io.ByteArrayOutputStream;
import java.net.Inet4Address;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the in-pod DHCP server answers, as KubeVirt's: DISCOVER from the leased MAC gets an OFFER of the lease,
 * REQUEST of the lease from that MAC an ACK, any other REQUEST a NAK; a REQUEST naming another server, and
 * everything else, no answer.
 */
public final class DhcpReplies {
    /** KubeVirt's lease time: infinite. */
    static final int INFINITE = 0xffffffff;

    private DhcpReplies() {
    }

    /** The reply to {@code req} under {@code lease}, or null for none. */
    public static DhcpMessage reply(DhcpMessage req, DhcpLease lease) {
        if (req.op() != DhcpMessage.BOOTREQUEST) {
            return null;
        }
        boolean ours = lease.mac().equals(req.chaddr());
        Inet4Address ip = DhcpLease.parse(lease.ip());
        switch (req.messageType()) {
            case DhcpMessage.DISCOVER -> {
                return ours ? answer(req, lease, DhcpMessage.OFFER) : null;
            }
            case DhcpMessage.REQUEST -> {
                Inet4Address server = req.address(DhcpMessage.OPT_SERVER_ID);
                if (server != null && !server.equals(DhcpLease.parse(lease.serverId()))) {
                    return null; // the client took another server's offer
                }
                Inet4Address wanted = req.address(DhcpMessage.OPT_REQUESTED_IP);
                if (wanted == null && !req.ciaddr().isAnyLocalAddress()) {
                    wanted = req.ciaddr(); // renewing or rebinding
                }
                return ours && ip.equals(wanted) ? answer(req, lease, DhcpMessage.ACK) : answer(req, lease, DhcpMessage.NAK);
            }
            default -> {
                return null;
            }
        }
    }

    private static DhcpMessage answer(DhcpMessage req, DhcpLease lease, int type) {
        Inet4Address zero = DhcpLease.parse("0.0.0.0");
        Map<Integer, byte[]> o = new LinkedHashMap<>();
        o.put(DhcpMessage.OPT_MESSAGE_TYPE, new byte[] {(byte) type});
        o.put(DhcpMessage.OPT_SERVER_ID, DhcpLease.parse(lease.serverId()).getAddress());
        if (type == DhcpMessage.NAK) {
            return new DhcpMessage(DhcpMessage.BOOTREPLY, req.xid(), 0, req.flags(), zero, zero, zero, req.giaddr(),
                    req.chaddr(), o);
        }
        byte[] t = new byte[4];
        DhcpCodec.put32(t, 0, INFINITE);
        o.put(DhcpMessage.OPT_LEASE_TIME, t);
        o.put(DhcpMessage.OPT_SUBNET_MASK, mask(lease.prefix()));
        if (lease.gateway() != null) {
            o.put(DhcpMessage.OPT_ROUTER, DhcpLease.parse(lease.gateway()).getAddress());
        }
        if (!lease.dns().isEmpty()) {
            ByteArrayOutputStream d = new ByteArrayOutputStream();
            lease.dns().forEach(a -> d.writeBytes(DhcpLease.parse(a).getAddress()));
            o.put(DhcpMessage.OPT_DNS, d.toByteArray());
        }
        if (lease.hostname() != null && !lease.hostname().isEmpty()) {
            o.put(DhcpMessage.OPT_HOSTNAME, lease.hostname().getBytes(StandardCharsets.US_ASCII));
        }
        o.put(DhcpMessage.OPT_MTU, new byte[] {(byte) (lease.mtu() >>> 8), (byte) lease.mtu()});
        if (!lease.search().isEmpty()) {
            o.put(DhcpMessage.OPT_DOMAIN_SEARCH, searchList(lease.search()));
        }
        return new DhcpMessage(DhcpMessage.BOOTREPLY, req.xid(), 0, req.flags(), req.ciaddr(),
                DhcpLease.parse(lease.ip()), zero, req.giaddr(), req.chaddr(), o);
    }

    static byte[] mask(int prefix) {
        int m = prefix == 0 ? 0 : -1 << (32 - prefix);
        byte[] b = new byte[4];
        DhcpCodec.put32(b, 0, m);
        return b;
    }

    /** RFC 3397: each domain as DNS labels (length, bytes, ..., 0), no compression. */
    static byte[] searchList(List<String> domains) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String d : domains) {
            for (String label : d.split("\\.")) {
                if (label.isEmpty()) {
                    continue; // a trailing dot
                }
                byte[] l = label.getBytes(StandardCharsets.US_ASCII);
                if (l.length > 63) {
                    throw new IllegalArgumentException("search domain '" + d + "': label over 63 bytes");
                }
                out.write(l.length);
                out.writeBytes(l);
            }
            out.write(0);
        }
        return out.toByteArray();
    }
}
