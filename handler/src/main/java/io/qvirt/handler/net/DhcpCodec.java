package io.qvirt.handler.net;

import java.io.ByteArrayOutputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * DHCP messages to and from bytes (RFC 2131 and 2132). Decoding checks every length against the datagram and
 * refuses anything else with a {@link DhcpFormatException} naming the offset: it reads what a guest sends.
 */
public final class DhcpCodec {
    /** op..file, before the magic cookie. */
    static final int FIXED = 236;
    static final int MAGIC = 0x63825363;
    private static final int PAD = 0;
    private static final int END = 255;

    private DhcpCodec() {
    }

    /** @throws DhcpFormatException if {@code len} bytes of {@code buf} are not a DHCP message of an Ethernet client */
    public static DhcpMessage decode(byte[] buf, int len) throws DhcpFormatException {
        if (len < 0 || len > buf.length) {
            throw new IllegalArgumentException("length " + len + " outside the buffer of " + buf.length);
        }
        if (len < FIXED + 4) {
            throw new DhcpFormatException("truncated: " + len + " bytes, a DHCP message has at least " + (FIXED + 4));
        }
        int op = buf[0] & 0xff;
        if (op != DhcpMessage.BOOTREQUEST && op != DhcpMessage.BOOTREPLY) {
            throw new DhcpFormatException("op " + op + " at offset 0: neither BOOTREQUEST (1) nor BOOTREPLY (2)");
        }
        int htype = buf[1] & 0xff;
        int hlen = buf[2] & 0xff;
        if (htype != 1 || hlen != 6) {
            throw new DhcpFormatException("htype " + htype + ", hlen " + hlen + " at offset 1: only Ethernet (1, 6)");
        }
        int magic = int32(buf, FIXED);
        if (magic != MAGIC) {
            throw new DhcpFormatException(String.format("magic cookie 0x%08x at offset %d: expected 0x63825363", magic, FIXED));
        }
        Map<Integer, byte[]> options = new LinkedHashMap<>();
        int i = FIXED + 4;
        boolean end = false;
        while (i < len) {
            int code = buf[i] & 0xff;
            if (code == PAD) {
                i++;
                continue;
            }
            if (code == END) {
                end = true;
                break;
            }
            if (i + 1 >= len) {
                throw new DhcpFormatException("option " + code + " at offset " + i + ": no length byte");
            }
            int olen = buf[i + 1] & 0xff;
            if (i + 2 + olen > len) {
                throw new DhcpFormatException("option " + code + " at offset " + i + ": length " + olen
                        + " runs past the end of the " + len + "-byte message");
            }
            byte[] v = new byte[olen];
            System.arraycopy(buf, i + 2, v, 0, olen);
            // RFC 3396: a repeated option continues the first.
            options.merge(code, v, DhcpCodec::concat);
            i += 2 + olen;
        }
        if (!end) {
            throw new DhcpFormatException("no end option (255) before the end of the " + len + "-byte message");
        }
        byte[] type = options.get(DhcpMessage.OPT_MESSAGE_TYPE);
        if (type != null && type.length != 1) {
            throw new DhcpFormatException("option 53 (message type): length " + type.length + ", expected 1");
        }
        return new DhcpMessage(op, int32(buf, 4), int16(buf, 8), int16(buf, 10), inet4(buf, 12), inet4(buf, 16),
                inet4(buf, 20), inet4(buf, 24), mac(buf, 28), options);
    }

    /** The message as a datagram: the fixed part (sname and file zero), the cookie, the options, end. */
    public static byte[] encode(DhcpMessage m) {
        byte[] fixed = new byte[FIXED + 4];
        fixed[0] = (byte) m.op();
        fixed[1] = 1;
        fixed[2] = 6;
        put32(fixed, 4, m.xid());
        put16(fixed, 8, m.secs());
        put16(fixed, 10, m.flags());
        putAddr(fixed, 12, m.ciaddr());
        putAddr(fixed, 16, m.yiaddr());
        putAddr(fixed, 20, m.siaddr());
        putAddr(fixed, 24, m.giaddr());
        byte[] mac = macBytes(m.chaddr());
        System.arraycopy(mac, 0, fixed, 28, 6);
        put32(fixed, FIXED, MAGIC);
        ByteArrayOutputStream out = new ByteArrayOutputStream(300);
        out.writeBytes(fixed);
        for (Map.Entry<Integer, byte[]> o : m.options().entrySet()) {
            int code = o.getKey();
            if (code <= PAD || code >= END) {
                throw new IllegalArgumentException("option code " + code + ": must be 1-254");
            }
            byte[] v = o.getValue();
            int off = 0;
            do { // RFC 3396: a value over 255 bytes is split over repeated options
                int n = Math.min(255, v.length - off);
                out.write(code);
                out.write(n);
                out.write(v, off, n);
                off += n;
            } while (off < v.length);
        }
        out.write(END);
        // Some BOOTP relays and clients drop replies under 300 bytes (RFC 1542's minimum BOOTP message).
        while (out.size() < 300) {
            out.write(PAD);
        }
        return out.toByteArray();
    }

    /** {@code xx:xx:xx:xx:xx:xx} to six bytes. */
    static byte[] macBytes(String mac) {
        String[] p = mac == null ? new String[0] : mac.split(":");
        if (p.length != 6) {
            throw new IllegalArgumentException("MAC '" + mac + "': expected xx:xx:xx:xx:xx:xx");
        }
        byte[] b = new byte[6];
        for (int i = 0; i < 6; i++) {
            if (p[i].length() != 2) {
                throw new IllegalArgumentException("MAC '" + mac + "': expected xx:xx:xx:xx:xx:xx");
            }
            b[i] = (byte) Integer.parseInt(p[i], 16);
        }
        return b;
    }

    static String mac(byte[] b, int off) {
        StringBuilder s = new StringBuilder(17);
        for (int i = 0; i < 6; i++) {
            s.append(i == 0 ? "" : ":").append(String.format("%02x", b[off + i] & 0xff));
        }
        return s.toString();
    }

    static Inet4Address inet4(byte[] b, int off) {
        try {
            return (Inet4Address) InetAddress.getByAddress(new byte[] {b[off], b[off + 1], b[off + 2], b[off + 3]});
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // four bytes are always an address
        }
    }

    private static void putAddr(byte[] b, int off, Inet4Address a) {
        if (a != null) {
            System.arraycopy(a.getAddress(), 0, b, off, 4);
        }
    }

    static int int32(byte[] b, int off) {
        return (b[off] & 0xff) << 24 | (b[off + 1] & 0xff) << 16 | (b[off + 2] & 0xff) << 8 | (b[off + 3] & 0xff);
    }

    private static int int16(byte[] b, int off) {
        return (b[off] & 0xff) << 8 | (b[off + 1] & 0xff);
    }

    static void put32(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }

    private static void put16(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 8);
        b[off + 1] = (byte) v;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = new byte[a.length + b.length];
        System.arraycopy(a, 0, c, 0, a.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
