package io.qvirt.handler.net;

import java.net.Inet4Address;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One DHCP (BOOTP) message as RFC 2131 lays it out, Ethernet clients only ({@code htype 1, hlen 6}); {@code sname}
 * and {@code file} are not kept (qvirt neither reads nor sends them).
 *
 * @param op      1 BOOTREQUEST, 2 BOOTREPLY
 * @param xid     the client's transaction id
 * @param secs    seconds since the client began
 * @param flags   bit 15: the client asks for broadcast replies
 * @param ciaddr  the client's address (renewing), 0.0.0.0 otherwise
 * @param yiaddr  "your" address (the server's offer)
 * @param siaddr  next server (unused: 0.0.0.0)
 * @param giaddr  relay agent (0.0.0.0 on a link without relay)
 * @param chaddr  the client's MAC, {@code xx:xx:xx:xx:xx:xx} lower case
 * @param options by option code, in order; values without their code and length (pad and end are not options)
 */
public record DhcpMessage(int op, int xid, int secs, int flags, Inet4Address ciaddr, Inet4Address yiaddr,
                          Inet4Address siaddr, Inet4Address giaddr, String chaddr, Map<Integer, byte[]> options) {
    public static final int BOOTREQUEST = 1;
    public static final int BOOTREPLY = 2;
    public static final int DISCOVER = 1;
    public static final int OFFER = 2;
    public static final int REQUEST = 3;
    public static final int DECLINE = 4;
    public static final int ACK = 5;
    public static final int NAK = 6;
    public static final int RELEASE = 7;
    public static final int INFORM = 8;

    public static final int OPT_SUBNET_MASK = 1;
    public static final int OPT_ROUTER = 3;
    public static final int OPT_DNS = 6;
    public static final int OPT_HOSTNAME = 12;
    public static final int OPT_MTU = 26;
    public static final int OPT_REQUESTED_IP = 50;
    public static final int OPT_LEASE_TIME = 51;
    public static final int OPT_MESSAGE_TYPE = 53;
    public static final int OPT_SERVER_ID = 54;
    public static final int OPT_DOMAIN_SEARCH = 119;

    public DhcpMessage {
        options = Collections.unmodifiableMap(new LinkedHashMap<>(options));
    }

    /** Option 53's value, or 0 without one. */
    public int messageType() {
        byte[] t = options.get(OPT_MESSAGE_TYPE);
        return t == null || t.length != 1 ? 0 : t[0] & 0xff;
    }

    /** A four-byte option as an address, or null if absent or of another length. */
    public Inet4Address address(int option) {
        byte[] v = options.get(option);
        if (v == null || v.length != 4) {
            return null;
        }
        return DhcpCodec.inet4(v, 0);
    }
}
